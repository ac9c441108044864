"""Lock files to pinned requirement lines (pure): Pipfile.lock and poetry.lock."""
from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from hoist.builder.errors import BuildError


def parse_pipfile_lock(text: str) -> dict[str, Any]:
    """Parse Pipfile.lock JSON; a syntax error names the line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildError(
            f"Pipfile.lock is not valid JSON (line {exc.lineno}: {exc.msg}); "
            "regenerate it with `pipenv lock` and commit it"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("default", {}), dict):
        raise BuildError("Pipfile.lock has no `default` section; regenerate it with `pipenv lock`")
    return data


def pipfile_lock_requirements(lock: dict[str, Any]) -> list[str]:
    """Requirement lines for the `default` (non-dev) packages, with markers and hashes."""
    lines: list[str] = []
    for name, spec in sorted(lock.get("default", {}).items()):
        if not isinstance(spec, dict):
            continue
        lines.append(_pipfile_line(name, spec))
    return lines


def _pipfile_line(name: str, spec: dict[str, Any]) -> str:
    extras = spec.get("extras") or []
    req = name + (f"[{','.join(extras)}]" if extras else "")
    markers = spec.get("markers")
    if "git" in spec:
        ref = spec.get("ref")
        req = f"{req} @ git+{spec['git']}" + (f"@{ref}" if ref else "")
    elif "file" in spec:
        req = f"{req} @ {spec['file']}"
    elif "path" in spec:
        path = spec["path"]
        return f"-e {path}" if spec.get("editable") else path
    else:
        version = spec.get("version")
        if version:
            req += version
    if markers:
        req += f" ; {markers}"
    hashes = spec.get("hashes") or []
    if hashes and "git" not in spec:
        req += "".join(f" --hash={h}" for h in hashes)
    return req


def parse_poetry_lock(text: str) -> dict[str, Any]:
    """Parse poetry.lock TOML; a syntax error says how to regenerate it."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(
            f"poetry.lock is not valid TOML ({exc}); regenerate it with `poetry lock` and commit it"
        ) from None


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _main_dependency_names(pyproject: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    poetry = pyproject.get("tool", {}).get("poetry", {})
    for name in poetry.get("dependencies", {}):
        if name.lower() != "python":
            names.add(_normalize(name))
    for dep in pyproject.get("project", {}).get("dependencies", []):
        m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", dep)
        if m:
            names.add(_normalize(m.group(1)))
    return names


def _is_main(package: dict[str, Any]) -> bool | None:
    """True/False when the lock says which group a package is in; None when it doesn't."""
    if "groups" in package:  # poetry 2.x
        return "main" in package["groups"]
    if "category" in package:  # poetry 1.x before lock format 2.0
        return bool(package["category"] == "main")
    return None


def poetry_main_packages(lock: dict[str, Any], pyproject: dict[str, Any]) -> list[dict[str, Any]]:
    """The packages of the main group: from the lock's groups/category, else by walking from pyproject."""
    packages = [p for p in lock.get("package", []) if isinstance(p, dict) and "name" in p]
    flags = [_is_main(p) for p in packages]
    if packages and all(f is not None for f in flags):
        return [p for p, f in zip(packages, flags) if f]
    # Lock format 2.0 (poetry 1.3-1.8) records no group: walk the dependency graph
    # from the main dependencies in pyproject.toml.
    by_name = {_normalize(p["name"]): p for p in packages}
    todo = list(_main_dependency_names(pyproject))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo.extend(_normalize(dep) for dep in by_name[name].get("dependencies", {}))
    return [p for p in packages if _normalize(p["name"]) in seen]


def poetry_lock_requirements(lock: dict[str, Any], pyproject: dict[str, Any]) -> list[str]:
    """Pinned requirement lines for poetry.lock's main group (hashes only when every line has them)."""
    legacy_files = lock.get("metadata", {}).get("files", {})
    rows: list[tuple[str, list[str]]] = []
    for pkg in poetry_main_packages(lock, pyproject):
        name, version = pkg["name"], pkg.get("version", "")
        source = pkg.get("source") or {}
        kind = source.get("type")
        if kind == "git":
            ref = source.get("resolved_reference") or source.get("reference")
            req = f"{name} @ git+{source['url']}" + (f"@{ref}" if ref else "")
        elif kind in ("file", "url"):
            req = f"{name} @ {source['url']}"
        elif kind == "directory":
            req = source["url"]
        else:
            req = f"{name}=={version}"
        markers = pkg.get("markers")
        if isinstance(markers, dict):
            markers = markers.get("main")
        if isinstance(markers, str) and markers:
            req += f" ; {markers}"
        files = pkg.get("files") or legacy_files.get(name) or []
        hashes = [f["hash"] for f in files if isinstance(f, dict) and f.get("hash")]
        rows.append((req, hashes if kind in (None, "legacy") else []))
    with_hashes = bool(rows) and all(h for _, h in rows)
    return [req + ("".join(f" --hash={h}" for h in hashes) if with_hashes else "") for req, hashes in rows]
