"""A one-off dyno running as a swarm task (`run`, `run:detached`, the release phase, scheduler jobs), as hoist
sees it: the DynoProcess shape and, attached, the AttachedProcess one (fd_in, fd_out, close_stdin, close) that
the rendezvous bridge drives. hoist cannot reach a task on another node, so the task dials back (dialback.py)
to the dial-back listener on HOIST_SWARM_HOST_ADDR; `serve` runs in that listener's thread and moves frames
(frames.py) between the connection and local pipes: attached, the pipes are what `hoist run`'s bridge pumps;
detached, output lines go to `on_line` (the app's log as app[run.N])."""
from __future__ import annotations

import asyncio
import collections
import itertools
import os
import select
import signal
import ssl
import threading
from typing import Any, Callable

from hoist.dynos.swarm.frames import Decoder, FrameError, encode, exit_status

_pids = itertools.count(1_000_001)  # fake pids, apart from SwarmDyno's: no local process
_CHUNK = 65536


class RemoteOneOff:
    def __init__(self, name: str, tty: bool, on_line: Callable[[str], None] | None,
                 loop: asyncio.AbstractEventLoop, remove: Callable[[], None]) -> None:
        self.name = name
        self.tty = tty
        self.on_line = on_line  # detached: where its lines go; attached: None
        self.loop = loop
        self.remove = remove  # removes the service (called on the loop)
        self.node: str | None = None  # the swarm node its task runs on, once known
        self._pid = -next(_pids)
        self.finished: asyncio.Future[int] = loop.create_future()
        self.connected = threading.Event()
        self.last_signal = 0
        self._outbox: collections.deque[bytes] = collections.deque()
        self._wake_r, self._wake_w = os.pipe()
        self.fd_in: int | None = None
        self.fd_out = -1
        self._in_r = self._out_w = -1
        if on_line is None:
            self.fd_out, self._out_w = os.pipe()
            self._in_r, self.fd_in = os.pipe()
        self._closed: set[int] = set()

    # ----- the DynoProcess shape -----

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self.finished.result() if self.finished.done() else None

    async def wait(self) -> int:
        return await asyncio.shield(self.finished)

    async def closed(self) -> None:
        await self.wait()

    def usage(self) -> tuple[int, int] | None:
        return None

    def signal(self, signum: int) -> None:
        """To the command in the task (over the connection); SIGKILL, or a task that has not called yet, removes
        the service (the engine stops the task)."""
        if self.finished.done():
            return
        self.last_signal = signum
        if self.connected.is_set() and signum != signal.SIGKILL:
            self._send(encode(b"S", str(int(signum)).encode()))
            return
        self.remove()
        if not self.connected.is_set():
            self.end(-signum)

    def resize(self, rows: int, cols: int) -> None:
        self._send(encode(b"W", f"{int(rows)}x{int(cols)}".encode()))

    # ----- the AttachedProcess shape -----

    def close_stdin(self) -> None:
        if self.fd_in is not None and not self.tty:
            self._close(self.fd_in)
            self.fd_in = None

    def close(self) -> None:
        for fd in (self.fd_in, self.fd_out):
            if fd is not None and fd >= 0:
                self._close(fd)

    # ----- the end -----

    def end(self, rc: int) -> None:
        """On the loop: the one-off is over (its service goes)."""
        if not self.finished.done():
            self.finished.set_result(rc)
            self.remove()
            if not self.connected.is_set():
                self.release()

    def fail(self, message: str, rc: int = 255) -> None:
        """On the loop: the task never attached (or failed before): say why where its output goes, end."""
        if self.finished.done():
            return
        if self.on_line is not None:
            self.on_line(message)
        elif self._out_w >= 0:
            try:
                os.write(self._out_w, (message + "\r\n").encode())
            except OSError:
                pass
            self._close(self._out_w)
        self.end(rc)

    # ----- the connection (in the dial-back listener's thread) -----

    def serve(self, tls: ssl.SSLSocket, initial: bytes) -> None:
        """Bridge the task's connection until it reports its exit or goes; then end on the loop."""
        self.connected.set()
        decoder = Decoder()
        rc: int | None = None
        partial = b""
        stdin_open = self.on_line is None
        if not stdin_open:
            self._send(encode(b"E"))
        pending = initial
        try:
            while rc is None:
                if pending:
                    data, pending = pending, b""
                else:
                    readers: list[Any] = [tls, self._wake_r] + ([self._in_r] if stdin_open else [])
                    ready = [tls] if tls.pending() else select.select(readers, [], [], 1.0)[0]
                    if self._wake_r in ready:
                        os.read(self._wake_r, 512)
                    while self._outbox:
                        tls.sendall(self._outbox.popleft())
                    if stdin_open and self._in_r in ready:
                        chunk = os.read(self._in_r, _CHUNK)
                        tls.sendall(encode(b"I", chunk) if chunk else encode(b"E"))
                        stdin_open = bool(chunk)
                    if tls not in ready:
                        continue
                    data = tls.recv(_CHUNK)
                    if not data:
                        break  # the task went without a word (its node or engine died, or it was removed)
                for kind, payload in decoder.feed(data):
                    if kind == b"O":
                        partial = self._output(partial + payload if self.on_line else payload)
                    elif kind == b"X":
                        rc = exit_status(payload)
        except (OSError, ssl.SSLError, FrameError):
            pass
        if partial and self.on_line is not None:
            self.loop.call_soon_threadsafe(self.on_line, partial.decode(errors="replace"))
        if self._out_w >= 0:
            self._close(self._out_w)  # the bridge sees the output end
        self.loop.call_soon_threadsafe(self.end, rc if rc is not None else -(self.last_signal or signal.SIGKILL))
        self.release()

    def _output(self, data: bytes) -> bytes:
        """Attached: into the pipe the bridge reads. Detached: whole lines to on_line; the rest is kept."""
        if self.on_line is None:
            view = memoryview(data)
            while view:
                view = view[os.write(self._out_w, view):]
            return b""
        *lines, rest = data.split(b"\n")
        for line in lines:
            self.loop.call_soon_threadsafe(self.on_line, line.rstrip(b"\r").decode(errors="replace"))
        return rest

    def _send(self, frame: bytes) -> None:
        self._outbox.append(frame)
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass

    def _close(self, fd: int) -> None:
        if fd not in self._closed:
            self._closed.add(fd)
            try:
                os.close(fd)
            except OSError:
                pass

    def release(self) -> None:
        """Every descriptor still open (after the end)."""
        for fd in (self._wake_r, self._wake_w, self._in_r, self._out_w):  # never fd_in, fd_out: the bridge's
            if fd >= 0:
                self._close(fd)

