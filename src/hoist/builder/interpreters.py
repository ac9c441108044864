"""Finding CPython interpreters on this machine, which releases exist at all (via uv), and
installing a missing one with uv's managed Pythons where the machine can download it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from hoist.builder.output import Runner

_PLAIN_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_URL = re.compile(r"`(https?://[^`]+)`")
# A Python build is about 30 MB: a download that can succeed does well within this, and one
# that cannot (no route to github.com) fails in a second or two; the bound is for a link that hangs.
DOWNLOAD_TIMEOUT = 120.0


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


def discover(uv: str, cache_dir: Path, install_dir: Path | None = None) -> tuple[set[str], dict[str, str]]:
    """Return (every CPython release uv knows of, {installed version: interpreter path}); Pythons uv
    installed into install_dir count as installed."""
    env = {
        "PATH": search_path(),
        "HOME": os.environ.get("HOME", "/"),
        "UV_CACHE_DIR": str(cache_dir),
        "NO_COLOR": "1",
    }
    if install_dir is not None:
        env["UV_PYTHON_INSTALL_DIR"] = str(install_dir)
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


def discover_cached(uv: str, cache_dir: Path, install_dir: Path, memo: Path) -> tuple[set[str], dict[str, str]]:
    """discover(), remembered in `memo` for as long as nothing it depends on changes: the uv binary, the
    search path and every directory on it (an interpreter added, removed or replaced changes its directory's
    mtime), uv's install dir and pyenv's versions. A code-only build then runs no `uv python list` (0.1 to
    0.4 s). Every remembered interpreter must be the same file still (size, mtime), or uv is asked again."""
    key = _discovery_key(uv, install_dir)
    try:
        data = json.loads(memo.read_text())
        if data.get("key") == key and data["stamps"] == [file_stamp(p) for p in data["installed"].values()]:
            return set(data["known"]), dict(data["installed"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    known, installed = discover(uv, cache_dir, install_dir)
    if known and installed:  # only what uv itself listed (not the pyenv fallback) is worth keeping
        try:
            tmp = memo.with_name(f".{memo.name}.{os.getpid()}")
            tmp.write_text(json.dumps({"key": key, "known": sorted(known), "installed": installed,
                                       "stamps": [file_stamp(p) for p in installed.values()]}))
            os.replace(tmp, memo)
        except OSError:
            pass
    return known, installed


def _discovery_key(uv: str, install_dir: Path) -> list[str]:
    """What `uv python list` answers from, as stat stamps."""
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv"), "/root/.pyenv"]
    dirs = [*search_path().split(os.pathsep), str(install_dir), *(str(Path(r) / "versions") for r in roots if r)]
    return [file_stamp(uv), os.environ.get("HOME", "/"), search_path(), *(file_stamp(d) for d in dirs)]


def file_stamp(path: str) -> str:
    """Path, size, mtime and inode: what changes when the file (or a directory's entries) changes."""
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:-"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def _scan_pyenv() -> dict[str, str]:
    """Fallback when uv cannot list: trust pyenv's directory names."""
    found: dict[str, str] = {}
    for bin_dir in pyenv_bin_dirs():
        version = bin_dir.parent.name
        if _PLAIN_VERSION.match(version) and (bin_dir / "python3").exists():
            found[version] = str(bin_dir / "python3")
    return found


def download(runner: Runner, uv: str, version: str, install_dir: Path, cache_dir: Path,
             base_env: dict[str, str]) -> str | None:
    """Install CPython `version` into install_dir with uv's managed Pythons (`uv python install`), bounded
    in time; return None when it worked, else why not (one line)."""
    env = dict(base_env)  # the build env: proxies, and UV_PYTHON_INSTALL_MIRROR if the app sets one
    env.update({"UV_PYTHON_INSTALL_DIR": str(install_dir), "UV_CACHE_DIR": str(cache_dir), "NO_COLOR": "1",
                "UV_NO_PROGRESS": "1", "UV_HTTP_RETRIES": "1", "UV_HTTP_CONNECT_TIMEOUT": "15",
                "UV_HTTP_TIMEOUT": "30"})
    env.setdefault("UV_PYTHON_DOWNLOADS", "manual")
    env.pop("VIRTUAL_ENV", None)
    try:
        install_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create {install_dir}: {exc.strerror}"
    runner.log.topic(f"Installing Python {version} with uv (managed Python download)")
    started = time.monotonic()
    res = runner.run([uv, "python", "install", "--no-config", "--no-bin", version], cwd=install_dir, env=env,
                     echo=False, timeout=DOWNLOAD_TIMEOUT)
    if res.timed_out:
        return f"`uv python install {version}` did not finish within {DOWNLOAD_TIMEOUT:g} s"
    if res.returncode == 0:
        runner.log.info(f"Installed in {time.monotonic() - started:.2f} s")
        return None
    return install_failure(version, res.lines)


def install_failure(version: str, lines: list[str]) -> str:
    """uv's reason a Python download failed, in one line: the host it tried and its last cause."""
    causes = [ln.strip()[len("cause:"):].strip() for ln in lines if ln.strip().startswith("cause:")]
    errors = [ln.strip()[len("error:"):].strip() for ln in lines if ln.strip().startswith("error:")]
    reason = causes[-1] if causes else (errors[-1] if errors else "no output")
    hosts = [urlparse(m.group(1)).hostname for ln in lines for m in [_URL.search(ln)] if m]
    where = f"could not reach {hosts[0]}: " if hosts and hosts[0] and causes else ""
    return f"`uv python install {version}` failed: {where}{reason}"
