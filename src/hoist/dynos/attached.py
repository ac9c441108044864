"""An attached dyno on this machine: a process whose stdin and output are
raw file descriptors for a client to drive (`hoist run`, `heroku run`),
either through a pseudo-terminal or through plain pipes."""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import termios
from pathlib import Path

from hoist.contain.cgroups import Unit
from hoist.contain.shimmed import Launch, frame, shim_argv
from hoist.dynos.process import DynoRecord, GroupProcess, with_pid, write_record


class AttachedProcess(GroupProcess):
    """A running attached dyno. `fd_in` takes its stdin (None once closed); `fd_out` gives stdout+stderr.

    With a pty both are the same master descriptor."""

    def __init__(self, proc: asyncio.subprocess.Process, fd_in: int | None, fd_out: int, tty: bool,
                 run_dir: Path, rec: DynoRecord, unit: Unit | None = None) -> None:
        super().__init__(proc, run_dir, rec, unit)
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.tty = tty
        self._closed: set[int] = set()

    def close_stdin(self) -> None:
        """EOF on the process's stdin (pipes only: with a pty the line discipline owns EOF)."""
        if self.fd_in is not None and not self.tty:
            self._close(self.fd_in)
            self.fd_in = None

    def close(self) -> None:
        for fd in {self.fd_in, self.fd_out}:
            if fd is not None:
                self._close(fd)

    def _close(self, fd: int) -> None:
        if fd not in self._closed:
            self._closed.add(fd)
            try:
                os.close(fd)
            except OSError:
                pass


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


async def spawn_attached(run_dir: Path, rec: DynoRecord, launch: Launch, *, unit: Unit | None = None,
                         rows: int = 24, cols: int = 80) -> AttachedProcess:
    """Start `launch` through the launcher (shim.py exec: it joins `unit`, starts its own session, takes the pty
    as its controlling terminal when `launch.tty`, drops to the app's user, execs) with a pty or pipes."""
    spec_r, spec_w = os.pipe()
    fds: list[int] = []
    try:
        if launch.tty:
            master, slave = os.openpty()
            set_winsize(master, rows, cols)
            fds = [slave]
            stdin, stdout = slave, slave
        else:
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            fds = [in_r, out_w]
            stdin, stdout = in_r, out_w
        try:
            proc = await asyncio.create_subprocess_exec(
                *shim_argv("exec", spec_r), stdin=stdin, stdout=stdout, stderr=stdout, pass_fds=[spec_r])
        except BaseException:
            for fd in ([master] if launch.tty else [in_w, out_r]):
                os.close(fd)
            raise
        os.close(spec_r)
        spec_r = -1
        data = frame(launch.spec(unit))
        await asyncio.to_thread(_write_all, spec_w, data)
    finally:
        for fd in fds + [spec_w] + ([spec_r] if spec_r >= 0 else []):
            with contextlib.suppress(OSError):
                os.close(fd)  # only the child holds the pty slave: the master then sees EOF (EIO) when it exits
    fd_in, fd_out = (master, master) if launch.tty else (in_w, out_r)
    write_record(run_dir, with_pid(rec, proc.pid))
    return AttachedProcess(proc, fd_in, fd_out, launch.tty, run_dir, rec, unit)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
