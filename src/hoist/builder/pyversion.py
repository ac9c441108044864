"""Choosing the Python version (pure): the version files and the rules that pick one."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hoist.builder.errors import BuildError

DEFAULT_MINOR = "3.12"
OLDEST_SUPPORTED = (3, 10)
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class VersionRequest:
    """A requested version like "3.12" or "3.12.4" and where it came from."""

    version: str
    origin: str  # e.g. "runtime.txt", ".python-version", "Pipfile.lock"

    @property
    def parts(self) -> tuple[int, int, int | None]:
        m = _VERSION_RE.match(self.version)
        assert m, self.version
        return int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None

    @property
    def minor(self) -> str:
        major, minor, _ = self.parts
        return f"{major}.{minor}"


def parse_runtime_txt(text: str) -> str:
    """Return the version in runtime.txt text (`python-3.12.4` -> `3.12.4`)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    m = re.match(r"^python-(\d+\.\d+(?:\.\d+)?)$", lines[0]) if len(lines) == 1 else None
    if not m:
        shown = lines[0] if lines else "(empty)"
        raise BuildError(
            f"runtime.txt contains {shown!r}, which is not a Python version; "
            "delete runtime.txt and put a version such as 3.12 in .python-version"
        )
    return m.group(1)


def parse_python_version_file(text: str) -> str:
    """Return the version in .python-version text (`3.12` or `3.12.4`; `#` comments allowed)."""
    lines = [ln.strip() for ln in text.splitlines()]
    versions = [ln for ln in lines if ln and not ln.startswith("#")]
    if not versions:
        raise BuildError(
            ".python-version is empty; put a Python version such as 3.12 on its own line"
        )
    if len(versions) > 1:
        raise BuildError(
            f".python-version lists several versions ({', '.join(versions)}); keep exactly one, e.g. 3.12"
        )
    version = versions[0]
    if not _VERSION_RE.match(version) or not version.startswith("3."):
        raise BuildError(
            f".python-version asks for {version!r}, which is not a CPython version hoist understands; "
            "use the form 3.12 (newest 3.12.x) or 3.12.4 (exact)"
        )
    return version


def version_from_pipfile_lock(lock: dict[str, object]) -> str | None:
    """Return `_meta.requires.python_full_version` or `python_version` from a parsed Pipfile.lock."""
    meta = lock.get("_meta")
    requires = meta.get("requires") if isinstance(meta, dict) else None
    if not isinstance(requires, dict):
        return None
    for key in ("python_full_version", "python_version"):
        value = requires.get(key)
        if isinstance(value, str) and _VERSION_RE.match(value.strip()):
            return value.strip()
    return None


def choose_request(
    runtime_txt: str | None,
    python_version_file: str | None,
    pipfile_lock_version: str | None,
    conda_version: str | None,
    previous_version: str | None,
) -> tuple[VersionRequest, list[str]]:
    """Pick the version request, first match wins; return it with warnings to print."""
    warnings: list[str] = []
    if runtime_txt is not None:
        version = parse_runtime_txt(runtime_txt)
        req = VersionRequest(version, "runtime.txt")
        minor = req.minor if _is_supported(req) else DEFAULT_MINOR
        warnings.append(
            "runtime.txt is deprecated; delete it and put "
            f"{minor} in a .python-version file instead"
        )
    elif python_version_file is not None:
        req = VersionRequest(parse_python_version_file(python_version_file), ".python-version")
    elif pipfile_lock_version is not None:
        req = VersionRequest(pipfile_lock_version, "Pipfile.lock")
    elif conda_version is not None:
        req = VersionRequest(conda_version, "environment.yml")
    elif previous_version is not None:
        req = VersionRequest(previous_version, "the previous build")
    else:
        req = VersionRequest(DEFAULT_MINOR, "default")
        warnings.append(
            f"No Python version was specified; using the default {DEFAULT_MINOR}. "
            f"Put {DEFAULT_MINOR} in a .python-version file so the version never changes under you"
        )
    check_supported(req)
    return req, warnings


def _is_supported(req: VersionRequest) -> bool:
    major, minor, _ = req.parts
    return (major, minor) >= OLDEST_SUPPORTED


def _as_written(req: VersionRequest) -> str:
    return f"python-{req.version}" if req.origin == "runtime.txt" else req.version


def _fix_prefix(req: VersionRequest) -> str:
    # runtime.txt wins over .python-version, so a fix that keeps it changes nothing.
    return "delete runtime.txt and " if req.origin == "runtime.txt" else ""


def check_supported(req: VersionRequest) -> None:
    """Fail for end-of-life versions (below 3.10)."""
    if not _is_supported(req):
        raise BuildError(
            f"{req.origin} asks for {_as_written(req)}, which reached end-of-life; "
            f"{_fix_prefix(req)}put {DEFAULT_MINOR} in .python-version"
        )


def resolve(
    req: VersionRequest, known: set[str], installed: dict[str, str]
) -> tuple[str, str]:
    """Match a request against known CPython releases and installed interpreters.

    Return (full version, interpreter path). A minor like 3.12 gets the newest installed 3.12.x.
    """
    _, _, patch = req.parts
    if patch is None:
        exists = not known or any(v.startswith(req.version + ".") for v in known) or any(
            v.startswith(req.version + ".") for v in installed
        )
        candidates = [v for v in installed if v.startswith(req.version + ".")]
    else:
        exists = not known or req.version in known or req.version in installed
        candidates = [v for v in installed if v == req.version]
    if not exists:
        raise BuildError(
            f"Python {req.version} (from {req.origin}) isn't recognised: no such CPython release exists; "
            f"{_fix_prefix(req)}put an existing version such as {DEFAULT_MINOR} in .python-version"
        )
    if not candidates and req.origin == "default":
        # Nothing was asked for: any supported interpreter here beats failing a newcomer's first push.
        usable = [v for v in installed if version_key(v)[:2] >= OLDEST_SUPPORTED]
        if usable:
            best = max(usable, key=version_key)
            return best, installed[best]
    if not candidates:
        usable = [v for v in installed if version_key(v)[:2] >= OLDEST_SUPPORTED]
        available = ", ".join(sorted(usable, key=version_key)) or "none"
        suggestion = _suggest(req, installed)
        raise BuildError(
            f"Python {req.version} (from {req.origin}) isn't available on this machine "
            f"(available: {available}); {_fix_prefix(req)}put `{suggestion}` in .python-version, "
            f"or install Python {req.version} (e.g. with pyenv) and push again"
        )
    best = max(candidates, key=version_key)
    return best, installed[best]


def _suggest(req: VersionRequest, installed: dict[str, str]) -> str:
    same_minor = [v for v in installed if v.startswith(req.minor + ".")]
    if same_minor:
        return req.minor
    minors = sorted({".".join(v.split(".")[:2]) for v in installed}, key=version_key)
    supported = [m for m in minors if version_key(m) >= OLDEST_SUPPORTED]
    if DEFAULT_MINOR in supported:
        return DEFAULT_MINOR
    return supported[-1] if supported else DEFAULT_MINOR


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for dotted version strings."""
    return tuple(int(p) for p in version.split(".") if p.isdigit())
