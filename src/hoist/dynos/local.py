"""Dynos as local processes: each in its own session and process group, its
output read line by line, its pid recorded so a restarted hoist can clean up
after a `kill -9` of the previous one."""
from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Callable

from hoist.dynos.attached import AttachedProcess, spawn_attached
from hoist.dynos.isolation import Limits, RunAs
from hoist.dynos.process import GroupProcess, record, recorded_groups
from hoist.dynos.scheduler import DynoSpec
from hoist.procs import group_alive, killpg

_READ_CHUNK = 65536
_MAX_LINE = 10_000


class LocalProcess(GroupProcess):
    """A dyno whose output is read line by line (see `_pump`)."""

    def __init__(self, proc: asyncio.subprocess.Process, pidfile: Path, reader: asyncio.Task[None]) -> None:
        super().__init__(proc, pidfile)
        self._reader = reader

    async def _drain(self) -> None:
        # Drain what the dyno wrote before it exited, but do not wait on a
        # daemon it left behind holding the pipe open.
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), 1.0)
        except (asyncio.TimeoutError, Exception):
            pass


class LocalScheduler:
    """`run_as(app)` names the user an app's dynos run as (None: hoist's own user); `limits` and
    `prlimit` (the util-linux tool's path) cap each dyno's open files, processes and memory."""

    def __init__(self, run_dir: Path, run_as: Callable[[str], RunAs | None] | None = None,
                 limits: Limits | None = None, prlimit: str | None = None) -> None:
        self.run_dir = run_dir
        self.run_as = run_as
        self.limits = limits
        self.prlimit = prlimit
        run_dir.mkdir(parents=True, exist_ok=True)

    def _as_app(self, spec: DynoSpec) -> tuple[list[str], dict[str, object]]:
        """The argv (`bash -c`, under prlimit when isolated) and the user arguments for the app's dyno."""
        user = self.run_as(spec.app) if self.run_as else None
        argv = ["/bin/bash", "-c", spec.command]
        extra: dict[str, object] = {}
        if user is not None:
            # setgroups([]) + setgid + setuid in the child, done by subprocess itself (no preexec_fn).
            extra = {"user": user.uid, "group": user.gid, "extra_groups": []}
            if self.limits is not None and self.prlimit:
                argv = self.limits.prlimit_argv(self.prlimit) + argv
        return argv, extra

    async def spawn(self, spec: DynoSpec, on_line: Callable[[str], None]) -> LocalProcess:
        argv, extra = self._as_app(spec)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(spec.cwd), env=spec.env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True, **extra,  # type: ignore[arg-type]
        )
        pidfile = record(self.run_dir, spec, proc.pid)
        assert proc.stdout is not None
        reader = asyncio.create_task(_pump(proc.stdout, on_line))
        return LocalProcess(proc, pidfile, reader)

    async def spawn_attached(self, spec: DynoSpec, *, tty: bool, rows: int = 24, cols: int = 80) -> AttachedProcess:
        """Start a one-off dyno whose stdin/output a client drives (see hoist.dynos.attached)."""
        argv, extra = self._as_app(spec)  # as the app's user, like every other dyno
        return await spawn_attached(self.run_dir, spec, tty=tty, rows=rows, cols=cols, argv=argv, user_args=extra)

    def cleanup_orphans(self, grace: float = 5.0) -> int:
        groups = recorded_groups(self.run_dir)
        # The group may outlive its leader (forked daemons), so signal the group
        # even when the leader has gone.
        for pgid in groups:
            killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while groups and time.monotonic() < deadline:
            if not any(group_alive(g) for g in groups):
                break
            time.sleep(0.05)
        for pgid in groups:
            killpg(pgid, signal.SIGKILL)
        return len(groups)


async def _pump(stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> None:
    """Read output in chunks and hand over whole lines; overlong lines are split."""
    pending = b""
    while True:
        chunk = await stream.read(_READ_CHUNK)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            on_line(raw.rstrip(b"\r").decode("utf-8", "replace"))
        while len(pending) > _MAX_LINE:
            on_line(pending[:_MAX_LINE].decode("utf-8", "replace"))
            pending = pending[_MAX_LINE:]
    if pending:
        on_line(pending.decode("utf-8", "replace"))
