"""An attached dyno on this machine: a process whose stdin and output are
raw file descriptors for a client to drive (`hoist run`, `heroku run`),
either through a pseudo-terminal or through plain pipes."""
from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import termios
from pathlib import Path
from typing import Mapping

from hoist.dynos.process import GroupProcess, record
from hoist.dynos.scheduler import DynoSpec


class AttachedProcess(GroupProcess):
    """A running attached dyno. `fd_in` takes its stdin (None once closed); `fd_out` gives stdout+stderr.

    With a pty both are the same master descriptor."""

    def __init__(self, proc: asyncio.subprocess.Process, fd_in: int | None, fd_out: int, tty: bool,
                 pidfile: Path) -> None:
        super().__init__(proc, pidfile)
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


def _become_terminal_owner() -> None:
    """In the child, after setsid: make stdin (the pty slave) the controlling terminal, so ^C sends SIGINT."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


async def spawn_attached(run_dir: Path, spec: DynoSpec, *, tty: bool, rows: int = 24, cols: int = 80,
                         argv: list[str] | None = None, user_args: Mapping[str, object] | None = None) -> AttachedProcess:
    """Start `argv` (default `bash -c COMMAND`) in its own session with a pty (tty=True) or pipes; record its
    pid file. `user_args` (user, group, extra_groups) run it as the app's user."""
    argv = argv or ["/bin/bash", "-c", spec.command]
    extra = dict(user_args or {})
    if tty:
        master, slave = os.openpty()
        set_winsize(master, rows, cols)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=str(spec.cwd), env=spec.env,
                stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                preexec_fn=_become_terminal_owner, **extra,  # type: ignore[arg-type]
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # only the child holds the slave: the master then sees EOF (EIO) when it exits
        fd_in: int | None = master
        fd_out = master
    else:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=str(spec.cwd), env=spec.env,
                stdin=in_r, stdout=out_w, stderr=out_w, start_new_session=True, **extra,  # type: ignore[arg-type]
            )
        except BaseException:
            os.close(in_w)
            os.close(out_r)
            raise
        finally:
            os.close(in_r)
            os.close(out_w)
        fd_in, fd_out = in_w, out_r
    return AttachedProcess(proc, fd_in, fd_out, tty, record(run_dir, spec, proc.pid))
