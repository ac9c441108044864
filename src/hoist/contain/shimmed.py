"""hoist's side of the shim (shim.py): start a unit under a shim, or attach to the shim of a unit a
previous hoist started, and watch it as a process: its pid, its lines, its exit, signals to the whole
unit (its cgroup, else its process group), what it uses.

What a unit runs (`Launch`) reaches the shim over a socketpair, never argv or the environment; the shim
is forked by a `Zygote` (one process with the interpreter loaded) when there is one. Once
the unit's main process has exited, `ShimProcess` gives what is left in the unit `linger` seconds
(the supervisor usually kills it sooner), kills it, removes its cgroup, tells the shim it may go,
and calls `cleanup` (the caller's record and runtime directory)."""
from __future__ import annotations

import asyncio
import contextlib
import marshal
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hoist.contain.cgroups import CgroupError, Unit
from hoist.procs import group_alive, killpg

SHIM = Path(__file__).with_name("shim.py")
STREAM_LIMIT = 1 << 17  # the longest message: a line of shim.MAX_LINE bytes, and then some
ATTACH_TIMEOUT = 3.0
MAX_SOCKET_PATH = 107  # bytes in a Unix socket path (sun_path)


class ShimError(Exception):
    """A unit could not be started under its shim; the message says why."""


@dataclass(frozen=True)
class Launch:
    """What a unit runs, as whom, with which limits (the environment holds secrets: never logged)."""

    argv: list[str]
    env: dict[str, str] = field(repr=False)
    cwd: str = "/"
    uid: int | None = None
    gid: int | None = None
    rlimits: tuple[tuple[int, int, int], ...] = ()  # (resource, soft, hard)
    tty: bool = False

    def spec(self, unit: Unit | None, **extra: Any) -> dict[str, Any]:
        """The dict the shim reads: this launch, the unit's cgroup.procs files to join first, and `extra`."""
        return {"argv": list(self.argv), "env": dict(self.env), "cwd": self.cwd, "uid": self.uid, "gid": self.gid,
                "rlimits": [list(r) for r in self.rlimits], "tty": self.tty,
                "join": unit.join_files() if unit is not None else [], **extra}


def shim_argv(mode: str, fd: int) -> list[str]:
    """`python -I -S shim.py MODE FD`: no site-packages, no environment variables, no hoist import."""
    return [sys.executable, "-I", "-S", str(SHIM), mode, str(fd)]


def frame(spec: dict[str, Any]) -> bytes:
    data = marshal.dumps(spec)
    return len(data).to_bytes(4, "big") + data


def check_socket_path(path: Path) -> None:
    if len(str(path).encode()) >= MAX_SOCKET_PATH:
        raise ShimError(f"{path} is longer than a Unix socket path may be ({MAX_SOCKET_PATH} bytes); "
                        "start hoist with a shorter --home")


def _ignore(_: Any) -> None:
    pass


class ShimProcess:
    """A unit under a shim, as the supervisor and the keeper see a process (dynos/scheduler.DynoProcess)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, unit: Unit | None, *,
                 on_line: Callable[[str], None], on_dropped: Callable[[int], None] | None = None,
                 linger: float = 5.0, cleanup: Callable[[], None] | None = None) -> None:
        self.unit = unit
        self.on_line = on_line
        self.on_dropped = on_dropped or _ignore
        self.linger = linger
        self.cleanup = cleanup
        self.returncode: int | None = None
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()  # gone and cleaned up
        self._pid = 0
        self._reader = reader
        self._writer = writer
        self._started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._detached = False
        self._reaper: asyncio.Task[None] | None = None
        self._task = asyncio.ensure_future(self._read())

    @property
    def pid(self) -> int:
        """The unit's main process (it leads its own session and process group)."""
        return self._pid

    async def started(self, timeout: float | None = None) -> int:
        return await asyncio.wait_for(asyncio.shield(self._started), timeout)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    async def closed(self) -> None:
        """Once the unit has exited and is cleaned up: its cgroup removed, its shim gone, `cleanup` called."""
        await asyncio.shield(self.finished)

    def signal(self, signum: int) -> None:
        """Send `signum` to every process of the unit: its cgroup, else its process group."""
        if self.unit is not None:
            try:
                self.unit.signal(signum)
            except CgroupError as exc:
                self.on_line(f"hoist: could not signal the whole dyno: {exc}")
            return
        if self._pid:
            killpg(self._pid, signum)

    def usage(self) -> tuple[int, int] | None:
        """(bytes the whole unit uses, the kernel's OOM kills in it); None without a cgroup. Blocking reads."""
        if self.unit is None:
            return None
        return self.unit.memory(), self.unit.oom_kills()

    def detach(self) -> None:
        """hoist hands over: stop reading, leave the unit and its shim running for the next hoist."""
        self._detached = True
        self._task.cancel()
        self._writer.close()

    async def _read(self) -> None:
        try:
            while True:
                try:
                    raw = await self._reader.readline()
                except ValueError:  # longer than the limit: the shim never sends one; skip it
                    continue
                if not raw:
                    break
                kind, body = raw[:1], raw[1:].rstrip(b"\n")
                if kind == b"L":
                    self.on_line(body.rstrip(b"\r").decode("utf-8", "replace"))
                elif kind == b"P":
                    self._pid = int(body)
                    if not self._started.done():
                        self._started.set_result(self._pid)
                elif kind == b"D":
                    self.on_dropped(int(body))
                elif kind == b"X":
                    self._exit(int(body))
                elif kind == b"E" and not self._started.done():
                    self._started.set_exception(ShimError(body.decode("utf-8", "replace")))
        except (ConnectionError, OSError):
            pass
        if self._detached:
            return
        if not self._started.done():
            self._started.set_exception(ShimError("the shim exited before the process started"))
        if self.returncode is None:  # the shim is gone: nothing watches the unit any more, so it ends
            self.on_line("hoist: the dyno's shim went away; stopping the dyno")
            self._kill_all()
            self._exit(-signal.SIGKILL)

    def _exit(self, rc: int) -> None:
        if self.returncode is not None:
            return
        self.returncode = rc
        self._exited.set_result(rc)
        self._reaper = asyncio.ensure_future(self._reap())

    def _kill_all(self) -> None:
        if self.unit is not None:
            with contextlib.suppress(CgroupError):
                self.unit.kill()
        elif self._pid:
            killpg(self._pid, signal.SIGKILL)

    async def _reap(self) -> None:
        """The main process has exited: the rest of the unit gets `linger` s, then it is killed and removed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.linger
        try:
            if self.unit is not None:
                while self.unit.populated() and loop.time() < deadline:
                    await asyncio.sleep(0.05)
                self._kill_all()
                if await asyncio.to_thread(self.unit.wait_empty, 5.0):
                    with contextlib.suppress(CgroupError):
                        self.unit.remove()
            elif self._pid:
                while group_alive(self._pid) and loop.time() < deadline:
                    await asyncio.sleep(0.05)
                self._kill_all()
            with contextlib.suppress(OSError):
                self._writer.write(b"A")
                await self._writer.drain()
            self._writer.close()
            if self.cleanup is not None:
                self.cleanup()
        finally:
            if not self.finished.done():
                self.finished.set_result(None)


class Zygote:
    """`shim.py zygote`: one process, started on first use, that forks a shim for each unit hoist starts
    (the connection's end is passed to it over a socket): no interpreter start-up per dyno, and shims share
    its pages. If it is gone, `start` starts a shim process of its own instead."""

    def __init__(self, shim_unit: Unit | None = None) -> None:
        self.shim_unit = shim_unit  # the cgroup its shims are born in (it joins it once)
        self._sock: socket.socket | None = None
        self._proc: asyncio.subprocess.Process | None = None

    async def handover(self, fd: int) -> bool:
        """Give `fd` (the shim's end of its first connection) to a new shim; False if the zygote cannot."""
        if self._sock is None or self._proc is None or self._proc.returncode is not None:
            await self.close()
            ours, theirs = socket.socketpair()
            try:
                join = self.shim_unit.join_files() if self.shim_unit is not None else []
                self._proc = await asyncio.create_subprocess_exec(
                    *shim_argv("zygote", theirs.fileno()), *join, pass_fds=[theirs.fileno()],
                    stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
            except OSError:
                ours.close()
                return False
            finally:
                theirs.close()
            self._sock = ours
        try:
            socket.send_fds(self._sock, [b"S"], [fd])
        except OSError:
            await self.close()
            return False
        return True

    async def close(self) -> None:
        sock, proc, self._sock, self._proc = self._sock, self._proc, None, None
        if sock is not None:
            sock.close()  # it exits when hoist closes its end
        if proc is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)


async def start(launch: Launch, *, listen: Path, unit: Unit | None, shim_unit: Unit | None = None,
                rate: float = 0.0, on_line: Callable[[str], None], on_dropped: Callable[[int], None] | None = None,
                linger: float = 5.0, cleanup: Callable[[], None] | None = None, zygote: Zygote | None = None,
                ) -> ShimProcess:
    """Start `launch` under a new shim (forked by `zygote` when there is one) listening on `listen`; return
    once its main process runs.

    The unit's cgroup must exist: the process joins it before it runs anything. Raises ShimError."""
    check_socket_path(listen)
    ours, theirs = socket.socketpair()
    kill = ""
    if unit is not None and unit.tree.v2_track:
        kill = str(unit.track / "cgroup.kill")
    spec = launch.spec(unit, listen=str(listen), rate=rate, kill=kill)
    shim: asyncio.subprocess.Process | None = None
    try:
        if zygote is None or not await zygote.handover(theirs.fileno()):
            spec["shim_join"] = shim_unit.join_files() if shim_unit is not None else []
            shim = await asyncio.create_subprocess_exec(
                *shim_argv("run", theirs.fileno()), pass_fds=[theirs.fileno()], stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        ours.close()
        raise ShimError(f"could not start the shim ({sys.executable}): {exc}") from None
    finally:
        theirs.close()
    reader, writer = await asyncio.open_unix_connection(sock=ours, limit=STREAM_LIMIT)
    writer.write(frame(spec))
    proc = ShimProcess(reader, writer, unit, on_line=on_line, on_dropped=on_dropped, linger=linger, cleanup=cleanup)
    try:
        await writer.drain()
        await proc.started()
    except (ShimError, OSError) as exc:
        writer.close()
        raise ShimError(str(exc)) from None
    finally:
        if shim is not None:
            await shim.wait()  # it forked the shim and exited at once
    return proc


async def attach(listen: Path, unit: Unit | None, *, on_line: Callable[[str], None],
                 on_dropped: Callable[[int], None] | None = None, linger: float = 5.0,
                 cleanup: Callable[[], None] | None = None) -> ShimProcess | None:
    """Connect to the shim of a unit a previous hoist started; None if no shim answers there."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(str(listen), limit=STREAM_LIMIT), ATTACH_TIMEOUT)
    except (OSError, asyncio.TimeoutError):
        return None
    proc = ShimProcess(reader, writer, unit, on_line=on_line, on_dropped=on_dropped, linger=linger, cleanup=cleanup)
    try:
        await proc.started(ATTACH_TIMEOUT)
    except (ShimError, OSError, asyncio.TimeoutError):
        writer.close()
        return None
    return proc
