"""A dyno's process on this machine: the leader of its own session and
process group, recorded in a pid file until it exits, so that a hoist that
starts after a `kill -9` of the previous one can stop what it left behind.

`LocalProcess` (output read line by line) and `AttachedProcess` (raw
descriptors for a client) are both this; the pid file's format is written
and read only here."""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from hoist.dynos.scheduler import DynoSpec
from hoist.procs import killpg, start_time


def record(run_dir: Path, spec: DynoSpec, pid: int) -> Path:
    """Write the dyno's pid file: its pid and start time (a reused pid is not the dyno)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    pidfile = run_dir / f"{spec.app}__{spec.name}__{pid}.pid"
    pidfile.write_text(f"{pid} {start_time(pid) or ''}\n")
    return pidfile


def recorded_groups(run_dir: Path) -> list[int]:
    """The process groups of recorded dynos that still run (their pid files are removed)."""
    groups: list[int] = []
    for pidfile in run_dir.glob("*.pid"):
        try:
            pid_s, _, start = pidfile.read_text().strip().partition(" ")
            pid = int(pid_s)
        except (OSError, ValueError):
            pidfile.unlink(missing_ok=True)
            continue
        if start_time(pid) is not None and (not start or start_time(pid) == start):
            groups.append(pid)
        pidfile.unlink(missing_ok=True)
    return groups


def runtime_dir(uid: int | None, gid: int | None) -> Path:
    """A fresh private XDG_RUNTIME_DIR for one dyno process (0700, the dyno's user's).

    gunicorn 25.1+ opens a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl, else at
    $HOME/.gunicorn/gunicorn.ctl; a dyno's HOME is its slug, HOIST_HOME/apps/APP/slugs/UUID, which
    can pass the 107 bytes a Unix socket path may have ("Control server error: AF_UNIX path too
    long" at every boot), and the web dynos of one slug would take each other's socket. A short
    directory per dyno process fixes both."""
    path = Path(tempfile.mkdtemp(prefix="hoist-dyno-", dir="/tmp" if os.path.isdir("/tmp") else None))
    if uid is not None:
        os.chown(path, uid, gid if gid is not None else -1)
    return path


class GroupProcess:
    """A running dyno process; `signal` reaches its whole process group, daemons it forked included."""

    def __init__(self, proc: asyncio.subprocess.Process, pidfile: Path, rundir: Path | None = None) -> None:
        self._proc = proc
        self._pidfile = pidfile
        self._rundir = rundir

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    async def wait(self) -> int:
        rc = await self._proc.wait()
        await self._drain()
        self._pidfile.unlink(missing_ok=True)
        if self._rundir is not None:
            shutil.rmtree(self._rundir, ignore_errors=True)
        return rc

    async def _drain(self) -> None:
        """After the exit: whatever must finish before the process counts as gone (its output)."""

    def signal(self, signum: int) -> None:
        killpg(self._proc.pid, signum)
