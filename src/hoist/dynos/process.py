"""A dyno's process on this machine: the leader of its own session and
process group, recorded in a pid file until it exits, so that a hoist that
starts after a `kill -9` of the previous one can stop what it left behind.

`LocalProcess` (output read line by line) and `AttachedProcess` (raw
descriptors for a client) are both this; the pid file's format is written
and read only here."""
from __future__ import annotations

import asyncio
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


class GroupProcess:
    """A running dyno process; `signal` reaches its whole process group, daemons it forked included."""

    def __init__(self, proc: asyncio.subprocess.Process, pidfile: Path) -> None:
        self._proc = proc
        self._pidfile = pidfile

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
        return rc

    async def _drain(self) -> None:
        """After the exit: whatever must finish before the process counts as gone (its output)."""

    def signal(self, signum: int) -> None:
        killpg(self._proc.pid, signum)
