"""Images for a swarm without any registry download: a runtime base made from this host's own
files, and a slug layer on top of it, built by a local engine and pushed to hoist's registry.

    python3 scripts/swarm_images.py base --python /root/.pyenv/versions/3.11.7 [--tag T]
    python3 scripts/swarm_images.py app BASE TAG --copy HOST_DIR:IMAGE_DIR ... [--push]

The engine is DOCKER_HOST (`scripts/local-swarm env` prints it) and the client /usr/bin/docker.

Base image (`docker import` of a tar streamed from here, nothing written to disk):
- the files of a few Debian packages *as installed on this host* (`dpkg -L`: libc, bash, dash,
  coreutils, grep, sed, findutils, procps, ca-certificates, tzdata, netbase; no docs), the
  generated CA bundle /etc/ssl/certs, the merged-/usr symlinks (/bin -> usr/bin ...);
- each Python prefix given, at the *same absolute path* as on the host: a virtualenv made on
  the host (uv venv --relocatable) has bin/python -> /that/prefix/bin/python3.X and pyvenv.cfg
  `home = /that/prefix/bin`, so the venv runs unchanged once that path exists in the image.
  Left out: the prefix's own site-packages (a venv does not see them), test/, idlelib, tkinter,
  static libpython;
- every shared library that any ELF file above needs (`ldd`), with its symlink chain;
- /etc/passwd and /etc/group with root, nobody and `dyno` (uid/gid 1000), /tmp 1777, and every
  parent directory 0755 (pyenv lives under /root, 0700 on Debian: a dyno user could not reach it).
The image is tagged by a key of its inputs (package versions, prefixes' interpreter size and
mtime): a warm build with unchanged inputs finds the tag and does nothing.

Slug layer (`docker build -` with a tar context streamed from here: a Dockerfile `FROM base`
plus `COPY --chown=dyno:dyno` of each host directory; the base is local, so nothing is pulled).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

DOCKER = os.environ.get("HOIST_DOCKER") or "/usr/bin/docker"  # the engine's own client (20.10)
PACKAGES = ("base-files", "libc6", "bash", "dash", "coreutils", "grep", "sed", "findutils", "procps",
            "ca-certificates", "tzdata", "netbase")
EXTRA_PATHS = ("/etc/ssl/certs", "/etc/nsswitch.conf", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/ld.so.cache",
               "/usr/lib/locale/C.utf8", "/usr/bin/env", "/usr/bin/sh")
SKIP_PREFIXES = ("/usr/share/doc", "/usr/share/man", "/usr/share/info", "/usr/share/locale", "/usr/share/lintian",
                 "/usr/share/bug")
PY_SKIP_DIRS = ("site-packages", "dist-packages", "test", "idlelib", "tkinter", "turtledemo")
BUILDER_VERSION = "2"  # bump when what goes into the base changes
DYNO_UID = 1000
PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\ndyno:x:1000:1000:dyno:/app:/bin/bash\n"
GROUP = "root:x:0:\nnogroup:x:65534:\ndyno:x:1000:\n"


def docker(*args: str, input: bytes | None = None, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    res = subprocess.run([DOCKER, *args], input=input, capture_output=True, timeout=timeout)
    if check and res.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} failed: {res.stderr.decode(errors='replace').strip()[-1500:]}")
    return res


def stream_into(argv: list[str], write, env: dict[str, str] | None = None, timeout: float = 600) -> tuple[int, str]:
    """Run `argv`, calling write(stdin) to feed it; return (exit status, its output). Output goes
    to a temporary file so a chatty command can never block the writer."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, env=env)
        assert proc.stdin is not None
        try:
            write(proc.stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the command stopped reading: its own output says why
        proc.wait(timeout=timeout)
        out.seek(0)
        return proc.returncode, out.read().decode(errors="replace").strip()


def image_exists(tag: str) -> bool:
    return docker("image", "inspect", "--format", "{{.Id}}", tag, check=False).returncode == 0


# ---------------------------------------------------------------- which files

def canonical(path: str) -> str:
    """The path with its directories' symlinks resolved, the last component kept as is
    (/bin/bash -> /usr/bin/bash, /usr/bin/sh stays a symlink)."""
    head, tail = os.path.split(path)
    return os.path.join(os.path.realpath(head), tail)


def package_files(packages: tuple[str, ...]) -> list[str]:
    out = subprocess.run(["dpkg", "-L", *packages], capture_output=True, text=True, check=True).stdout
    return [p for p in out.splitlines() if p.startswith("/") and not p.startswith(SKIP_PREFIXES)]


def python_files(prefix: Path) -> list[str]:
    """An interpreter's files under its prefix: bin/python*, lib/libpython*, lib/python3.X (the
    stdlib, without what a venv never uses). Works for a pyenv prefix and for /usr alike."""
    files = [str(p) for p in (prefix / "bin").glob("python*")] + [str(p) for p in (prefix / "lib").glob("libpython*")]
    for stdlib in (prefix / "lib").glob("python3.*"):
        for root, dirs, names in os.walk(stdlib):
            if root == str(stdlib):
                dirs[:] = [d for d in dirs if d not in PY_SKIP_DIRS]
                files.append(os.path.join(root, "site-packages"))  # kept, empty: a venv does not see it
            files.append(root)
            files.extend(os.path.join(root, n) for n in names if not n.endswith(".a"))
    return files


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed_libraries(elf_files: list[str]) -> set[str]:
    """Every library the dynamic loader resolves for these files (ldd, in batches)."""
    libs: set[str] = set()
    for i in range(0, len(elf_files), 200):
        out = subprocess.run(["ldd", *elf_files[i:i + 200]], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
                libs.add(parts[2])
            elif parts and parts[0].startswith("/") and not parts[0].endswith(":"):
                libs.add(parts[0])  # the loader itself: /lib64/ld-linux-x86-64.so.2
    return libs


def root_paths(pythons: list[Path]) -> list[str]:
    """All paths of the base image, canonical, with symlink targets followed."""
    wanted = package_files(PACKAGES) + list(EXTRA_PATHS)
    for extra in ("/etc/ssl/certs",):
        wanted += [os.path.join(r, n) for r, _, ns in os.walk(extra) for n in ns]
    for prefix in pythons:
        wanted += python_files(prefix)
    seen: set[str] = set()
    queue = [canonical(p) for p in wanted]
    while queue:
        p = queue.pop()
        if p in seen or not os.path.lexists(p):
            continue
        seen.add(p)
        if os.path.islink(p):
            queue.append(canonical(os.path.join(os.path.dirname(p), os.readlink(p))))
    elfs = [p for p in seen if not os.path.islink(p) and os.path.isfile(p) and is_elf(p)]
    for lib in needed_libraries(elfs):
        queue.append(canonical(lib))
    while queue:  # the libraries and their symlink chains
        p = queue.pop()
        if p in seen or not os.path.lexists(p):
            continue
        seen.add(p)
        if os.path.islink(p):
            queue.append(canonical(os.path.join(os.path.dirname(p), os.readlink(p))))
    return sorted(seen)


# ---------------------------------------------------------------- the tar

def _dir_info(name: str, mode: int = 0o755, owner: int = 0) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.uid, ti.gid = tarfile.DIRTYPE, mode, 0, owner, owner
    return ti


def _file_info(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, io.BytesIO]:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = len(data), mode, 0
    return ti, io.BytesIO(data)


def write_root_tar(out, paths: list[str]) -> int:
    """Stream a root filesystem of `paths` (plus parents, top-level symlinks, users, /tmp) to `out`."""
    n = 0
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
        dirs_done: set[str] = {""}
        for top in ("bin", "lib", "lib64", "sbin"):  # merged /usr, as on the host
            if os.path.islink("/" + top):
                ti = tarfile.TarInfo(top)
                ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink("/" + top)
                tar.addfile(ti)
                dirs_done.add(top)
        for d, mode, owner in (("tmp", 0o1777, 0), ("etc", 0o755, 0), ("app", 0o755, DYNO_UID), ("proc", 0o555, 0),
                               ("sys", 0o555, 0), ("dev", 0o755, 0)):
            tar.addfile(_dir_info(d, mode, owner))  # /app is the dyno's, writable as on Heroku
            dirs_done.add(d)
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            tar.addfile(*_file_info(name, text.encode()))
        for p in paths:
            arc = p.lstrip("/")
            if arc in ("etc/passwd", "etc/group") or arc in dirs_done:
                continue
            parts = arc.split("/")
            for k in range(1, len(parts)):  # parents first, searchable by everyone
                parent = "/".join(parts[:k])
                if parent not in dirs_done:
                    tar.addfile(_dir_info(parent))
                    dirs_done.add(parent)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                if arc not in dirs_done:
                    tar.addfile(_dir_info(arc, 0o755 | (st.st_mode & 0o1000)))
                    dirs_done.add(arc)
                continue
            ti = tar.gettarinfo(p, arcname=arc)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            if ti.isreg():
                ti.mode |= 0o444 | (0o111 if ti.mode & 0o100 else 0)  # others can read (and run what root can)
                with open(p, "rb") as f:
                    tar.addfile(ti, f)
            else:
                tar.addfile(ti)
            n += 1
    return n


# ---------------------------------------------------------------- base and app images

def base_key(pythons: list[Path]) -> str:
    versions = subprocess.run(["dpkg-query", "-W", "-f", "${Package}=${Version}\n", *PACKAGES],
                              capture_output=True, text=True, check=True).stdout
    h = hashlib.sha256(f"{BUILDER_VERSION}\n{versions}".encode())
    for prefix in pythons:
        for exe in sorted(p for p in (prefix / "bin").glob("python3.*") if p.name[len("python3."):].isdigit()):
            st = exe.stat()
            h.update(f"{exe}:{st.st_size}:{int(st.st_mtime)}\n".encode())
    return h.hexdigest()[:12]


def build_base(pythons: list[Path], tag: str | None = None, repo: str = "hoist/base") -> dict:
    """Import the base image unless its key's tag is already there. Returns tag, cold (bool), seconds."""
    t0 = time.monotonic()
    pythons = [Path(p).absolute() for p in pythons]
    tag = tag or f"{repo}:{base_key(pythons)}"
    if image_exists(tag):
        return {"tag": tag, "cold": False, "seconds": time.monotonic() - t0}
    paths = root_paths(pythons)
    counted: list[int] = []
    rc, out = stream_into([DOCKER, "import", "--change", "ENV PATH=/usr/local/bin:/usr/bin:/bin",
                           "--change", "ENV LANG=C.UTF-8", "--change", "WORKDIR /app", "-", tag],
                          lambda stdin: counted.append(write_root_tar(stdin, paths)))
    if rc != 0:
        raise RuntimeError(f"docker import failed: {out[-1500:]}")
    files = counted[0] if counted else 0
    size = json.loads(docker("image", "inspect", "--format", "{{json .Size}}", tag).stdout)
    return {"tag": tag, "cold": True, "seconds": time.monotonic() - t0, "files": files, "bytes": size}


def dockerfile(base: str, copies: list[tuple[Path, str]], env: dict[str, str], labels: dict[str, str]) -> str:
    lines = [f"FROM {base}"]
    # the JSON form: a destination with a space (a HOIST_HOME under "My Apps") stays one path
    lines += [f"COPY --chown=dyno:dyno {json.dumps([f'c{i}/', dest.rstrip('/') + '/'])}"
              for i, (_, dest) in enumerate(copies)]
    lines += [f"ENV {k}={json.dumps(v)}" for k, v in env.items()]
    lines += [f"LABEL {json.dumps(k)}={json.dumps(v)}" for k, v in labels.items()]
    lines += ["WORKDIR /app", "USER dyno"]
    return "\n".join(lines) + "\n"


def build_app(base: str, tag: str, copies: list[tuple[Path, str]], env: dict[str, str] | None = None,
              labels: dict[str, str] | None = None) -> dict:
    """`docker build` the slug layer: each (host dir, image dir) copied in, owned by dyno."""
    t0 = time.monotonic()
    def context(stdin) -> None:
        with tarfile.open(fileobj=stdin, mode="w|") as tar:
            tar.addfile(*_file_info("Dockerfile", dockerfile(base, copies, env or {}, labels or {}).encode()))
            for i, (src, _) in enumerate(copies):
                tar.add(str(src), arcname=f"c{i}")

    # The classic builder: it behaves the same under the engine's 20.10 client and the 28.x one
    # (which, without the buildx plugin, falls back to it anyway). BuildKit on this engine works too.
    rc, out = stream_into([DOCKER, "build", "-q", "-t", tag, "-"], context, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    if rc != 0:
        raise RuntimeError(f"docker build failed: {out[-1500:]}")
    return {"tag": tag, "seconds": time.monotonic() - t0}


def push(tag: str) -> float:
    t0 = time.monotonic()
    docker("push", tag)
    return time.monotonic() - t0
