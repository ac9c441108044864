"""Process helpers written once: a free port, a password, whether a port
accepts, a process's start time, the binaries shipped inside wheels,
stopping a child with SIGTERM, a grace period, then SIGKILL, and the
supervisord-style delays before restarting a child that crashed.

Everything in hoist that starts, probes or stops a process uses these; no
other module keeps its own copy."""
from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import secrets
import signal
import socket
import string
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

LOOPBACK = "127.0.0.1"
_ALPHABET = string.ascii_letters + string.digits


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on `host` that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def random_password(length: int = 32) -> str:
    """A random password of letters and digits (safe in URLs and config files without escaping)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


async def accepts(host: str, port: int) -> bool:
    """True if something accepts TCP connections on host:port now."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    return True


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """`accepts` for blocking code (a daemon's start, run in a thread): True if host:port accepts now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600), replacing it whole: a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)  # a leftover temp file may have had another mode
    os.replace(tmp, path)


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks (field 22 of /proc/PID/stat), to tell a reused pid apart."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return data.rsplit(")", 1)[1].split()[19]


def wait_gone(pid: int, timeout: float = 5.0) -> None:
    """Wait until `pid` has exited (a zombie counts: it holds no sockets)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return
        time.sleep(0.02)


def killpg(pgid: int, sig: int) -> None:
    """Signal a process group; one that is gone (or not ours) is left alone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


async def terminate(proc: asyncio.subprocess.Process, grace: float) -> int:
    """SIGTERM a child, wait up to `grace` seconds, then SIGKILL; return its exit status."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except asyncio.TimeoutError:
            proc.kill()
    return await proc.wait()


def stop_pid(pid: int, alive: Callable[[], bool], grace: float) -> None:
    """SIGTERM a process that is not our child (a daemon), wait up to `grace` seconds while `alive()`, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not alive():
                return
            time.sleep(0.05)


# Crash restarts, supervisord-style: the first restart is immediate, repeated crashes wait longer and
# longer, up to a cap. A child that stayed up for STABLE_AFTER seconds before crashing starts the count again.
RESTART_DELAYS = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 60.0)
STABLE_AFTER = 60.0


class Waitable(Protocol):
    """A started process as the readiness wait sees it (asyncio's Process, a shim's ShimProcess)."""

    @property
    def returncode(self) -> int | None: ...

    def wait(self) -> Awaitable[int]: ...


async def until_ready(proc: Waitable, ready: Callable[[], Awaitable[bool]] | None, timeout: float) -> bool:
    """True once `ready()` says so (at once without `ready`), False if `proc` exits first or `timeout` passes."""
    if ready is None:
        return True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while proc.returncode is None and loop.time() < deadline:
        if await ready():
            return True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(proc.wait()), 0.05)
    return False


def not_started(name: str, returncode: int | None, timeout: float) -> str:
    """Why a child that `until_ready` gave up on did not start: it exited, or it never became ready."""
    if returncode is not None:
        return f"{name} exited with status {returncode} as it started"
    return f"{name} was not ready within {timeout:g} s"


def restart_delay(consecutive_crashes: int, delays: tuple[float, ...] = RESTART_DELAYS) -> float:
    """Seconds to wait before restart number `consecutive_crashes` (1-based)."""
    if consecutive_crashes <= 0:
        return 0.0
    return delays[min(consecutive_crashes - 1, len(delays) - 1)]


def wheel_dir(package: str) -> Path | None:
    """The directory of an installed package, found without importing it (imports can start machinery)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])
