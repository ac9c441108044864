"""Finding CPython interpreters on this machine, and which releases exist at all (via uv)."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

_PLAIN_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def pyenv_bin_dirs() -> list[Path]:
    """bin/ dirs of pyenv-installed versions (uv does not look there on its own)."""
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv"), "/root/.pyenv"]
    dirs: list[Path] = []
    for root in dict.fromkeys(r for r in roots if r):
        versions = Path(root) / "versions"
        try:
            if versions.is_dir():
                dirs.extend(sorted(p / "bin" for p in versions.iterdir() if (p / "bin").is_dir()))
        except PermissionError:  # another user's pyenv (builds run as the app's own user under root)
            continue
    return dirs


def search_path() -> str:
    """PATH for interpreter discovery: pyenv versions first, pyenv shims dropped (they fail noisily)."""
    current = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and "shims" not in Path(p).parts]
    return os.pathsep.join([str(d) for d in pyenv_bin_dirs()] + current)


def discover(uv: str, cache_dir: Path) -> tuple[set[str], dict[str, str]]:
    """Return (every CPython release uv knows of, {installed version: interpreter path})."""
    env = {
        "PATH": search_path(),
        "HOME": os.environ.get("HOME", "/"),
        "UV_CACHE_DIR": str(cache_dir),
        "NO_COLOR": "1",
    }
    proc = subprocess.run(
        [uv, "python", "list", "--all-versions", "--output-format", "json"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    known: set[str] = set()
    installed: dict[str, str] = {}
    try:
        entries = json.loads(proc.stdout) if proc.returncode == 0 else []
    except json.JSONDecodeError:
        entries = []
    for entry in entries:
        version = str(entry.get("version", ""))
        if entry.get("implementation") != "cpython" or entry.get("variant", "default") != "default":
            continue
        if not _PLAIN_VERSION.match(version):
            continue
        known.add(version)
        path = entry.get("path")
        if path and version not in installed:
            installed[version] = path
    if not installed:
        installed = _scan_pyenv()
    return known, installed


def _scan_pyenv() -> dict[str, str]:
    """Fallback when uv cannot list: trust pyenv's directory names."""
    found: dict[str, str] = {}
    for bin_dir in pyenv_bin_dirs():
        version = bin_dir.parent.name
        if _PLAIN_VERSION.match(version) and (bin_dir / "python3").exists():
            found[version] = str(bin_dir / "python3")
    return found
