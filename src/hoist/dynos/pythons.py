"""Interpreters that app users can run.

pyenv installs under /root/.pyenv, and /root is 0700 on Debian: an app's
user cannot execute those interpreters, so its build (and its venv's python
symlink) would fail. hoist mirrors them under HOIST_HOME/pythons/versions
(root-owned, world-readable) with hard links (no copy, same inode, so the
mirror costs almost no disk), except the python executable itself: pyenv
builds link libpython through an absolute RUNPATH into /root, so the mirror
gets a copy whose RUNPATH says `$ORIGIN/../lib` instead (same length or
shorter, patched in place in the copy's string table). Builds then find
interpreters with PYENV_ROOT pointing at the mirror."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_EXE_RE = re.compile(r"^python\d+\.\d+m?$")
ORIGIN_LIB = b"$ORIGIN/../lib"


def others_can_reach(path: Path) -> bool:
    """True if every directory from / to `path` is searchable by other users."""
    for p in [*reversed(path.parents), path]:
        try:
            if not os.stat(p).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def patch_runpath(exe: Path, old_prefix: Path) -> bool:
    """Rewrite the absolute RUNPATH `OLD_PREFIX/lib` in a copied executable to `$ORIGIN/../lib`."""
    data = exe.read_bytes()
    old = str(old_prefix / "lib").encode() + b"\0"
    if data.count(old) != 1 or len(old) < len(ORIGIN_LIB) + 1:
        return False
    new = ORIGIN_LIB + b"\0" * (len(old) - len(ORIGIN_LIB))
    tmp = exe.with_name(exe.name + ".hoist-tmp")
    tmp.write_bytes(data.replace(old, new))
    os.chmod(tmp, 0o755)
    os.replace(tmp, exe)
    return True


class MirrorError(Exception):
    """The interpreters cannot be mirrored; the message says what to do."""


def _supported(version_dir: Path) -> bool:
    """Only versions hoist builds with are worth mirroring: 3.10+, and 3.6-3.9 for the apps that
    opt in to an end-of-life Python (HOIST_ALLOW_EOL_PYTHON)."""
    parts = version_dir.name.split(".")
    return len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and (int(parts[0]), int(parts[1])) >= (3, 6)


def mirror_version(src: Path, dest: Path) -> None:
    """Hard-link a pyenv version tree to `dest` and give it relocatable python executables."""
    # Per-process temp name: several hoist servers may share one mirror (HOIST_PYTHONS).
    tmp = dest.with_name(f"{dest.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    linked = subprocess.run(["cp", "-al", str(src), str(tmp)], capture_output=True, text=True, timeout=600)
    if linked.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise MirrorError(
            f"cannot hard-link {src} into {dest.parent} ({linked.stderr.strip()[:200]}); the interpreter mirror must "
            "be on the same filesystem as pyenv: set HOIST_PYTHONS to a directory there (for example /var/lib/hoist-pythons)")
    for exe in (tmp / "bin").iterdir():
        if _EXE_RE.match(exe.name) and exe.is_file() and not exe.is_symlink():
            exe.unlink()  # break the hard link: the patch must not touch pyenv's own file
            shutil.copy2(src / "bin" / exe.name, exe)
            patch_runpath(exe, src)
    try:
        os.rename(tmp, dest)
    except OSError:
        if not dest.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # another hoist finished the same mirror first


def ensure_mirror(roots: list[Path], dest_root: Path) -> list[str]:
    """Mirror every version under the given pyenv roots that others cannot reach; return the versions."""
    versions = dest_root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    for p in (dest_root, versions):
        os.chmod(p, 0o755)
    done: list[str] = []
    for root in roots:
        src_versions = root / "versions"
        if not src_versions.is_dir() or others_can_reach(src_versions):
            continue
        for src in sorted(src_versions.iterdir()):
            if not (src / "bin").is_dir() or src.is_symlink() or not _supported(src):
                continue
            dest = versions / src.name
            if not dest.exists():
                mirror_version(src, dest)
            done.append(src.name)
    return done


def pyenv_roots() -> list[Path]:
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv"), "/root/.pyenv"]
    return [Path(r) for r in dict.fromkeys(r for r in roots if r)]


def builder_python(mirror_root: Path) -> str:
    """An interpreter for hoist's own builder that app users can run: hoist's, or its mirror."""
    base = Path(sys.base_prefix)
    exe = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if others_can_reach(base / "bin"):
        return str(base / "bin" / exe)
    return str(mirror_root / "versions" / base.name / "bin" / exe)


def import_paths() -> list[str]:
    """Where hoist's builder imports from: hoist itself and its dependencies (site-packages)."""
    import hoist

    paths = [str(Path(hoist.__file__).resolve().parent.parent)]
    paths += [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)]
    return list(dict.fromkeys(paths))


def _freshness(path: Path) -> str:
    """What changes when the code at `path` changes: the directory's mtime (a package added or
    removed), and for a source tree holding hoist itself, the newest file in it."""
    stamp = str(path.stat().st_mtime_ns)
    own = path / "hoist"
    if own.is_dir():
        stamp += ":" + str(max((f.stat().st_mtime_ns for f in own.rglob("*.py")), default=0))
    return stamp


def reachable_import_paths(mirror_root: Path, paths: list[str] | None = None) -> list[str]:
    """hoist's import paths, each replaced by a hard-linked copy under the mirror when app users
    cannot reach it (hoist installed under /root, for example). Copies are refreshed when the
    code changes and cost no disk (same inodes)."""
    out: list[str] = []
    for raw in import_paths() if paths is None else paths:
        path = Path(raw)
        if others_can_reach(path):
            out.append(raw)
            continue
        tag = hashlib.sha1(raw.encode()).hexdigest()[:10]
        key = hashlib.sha1(_freshness(path).encode()).hexdigest()[:10]
        site = mirror_root / "site"
        dest = site / f"{tag}-{key}"
        if not dest.exists():
            site.mkdir(parents=True, exist_ok=True)
            os.chmod(site, 0o755)
            tmp = site / f".{tag}-{key}.partial-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            linked = subprocess.run(["cp", "-al", raw, str(tmp)], capture_output=True, text=True, timeout=600)
            if linked.returncode != 0:
                shutil.rmtree(tmp, ignore_errors=True)
                raise MirrorError(
                    f"hoist's code in {raw} is not readable by app users and cannot be hard-linked into "
                    f"{site} ({linked.stderr.strip()[:200]}); install hoist where other users can read it "
                    "(for example a virtualenv under /opt), or set HOIST_PYTHONS to a directory on the "
                    "same filesystem")
            os.chmod(tmp, 0o755)
            try:
                os.rename(tmp, dest)
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)  # another hoist made the same copy first
            for old in site.glob(f"{tag}-*"):
                if old != dest:
                    shutil.rmtree(old, ignore_errors=True)
        out.append(str(dest))
    return out


def reachable_uv(mirror_root: Path) -> str:
    """The uv binary from hoist's `uv` wheel, hard-linked (or copied) under the mirror when app
    users cannot reach where it is installed."""
    from uv import find_uv_bin

    uv = Path(find_uv_bin())
    if others_can_reach(uv.parent):
        return str(uv)
    st = uv.stat()
    dest = mirror_root / "bin" / f"uv-{st.st_size}-{st.st_mtime_ns}"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(dest.parent, 0o755)
        tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
        try:
            os.link(uv, tmp)
        except OSError:
            shutil.copy2(uv, tmp)  # another filesystem: a real copy
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
    return str(dest)


# What the builder imports of hoist (python -X importtime -m hoist.builder): compiled ahead for it.
_BUILDER_CODE = ("__init__.py", "names.py", "builder", "contracts")
_compiled: set[tuple[str, str]] = set()


def compile_builder_code(python: str, paths: list[str]) -> None:
    """Write the bytecode of hoist's builder where it imports it from (`paths`), with its interpreter.

    The builder runs as the app's user, who cannot write __pycache__ into hoist's (root-owned) code: where
    no bytecode was installed (a checkout, an editable install, a mirrored copy), every build would compile
    its ~40 modules again before its first line (0.3 s on a loaded box). Done once per path and process;
    compileall skips what is up to date, and a failure only leaves the build to compile as before."""
    for path in paths:
        own = Path(path) / "hoist"
        if (python, path) in _compiled or not own.is_dir():
            continue
        targets = [str(own / name) for name in _BUILDER_CODE if (own / name).exists()]
        try:
            subprocess.run([python, "-m", "compileall", "-q", *targets], capture_output=True, timeout=300,
                           env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        except (OSError, subprocess.SubprocessError):
            continue
        _compiled.add((python, path))


BOOT = ("import sys, runpy; sys.path[0:0] = sys.argv.pop(1).split(':'); m = sys.argv.pop(1); "
        "runpy.run_module(m, run_name='__main__', alter_sys=True)")


def builder_argv(mirror_root: Path, module: str, *args: str) -> list[str]:
    """`python -m MODULE ARGS` runnable by an app user (its interpreter and imports reachable)."""
    return [builder_python(mirror_root), "-c", BOOT, ":".join(reachable_import_paths(mirror_root)), module, *args]
