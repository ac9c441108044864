"""Dynos as local processes. Each is recorded (dynos/process.py), then gets its cgroup (when hoist is
root and cgroups are mounted: hoist.contain), then runs under a shim that outlives hoist: the shim
forks the launcher, which joins the cgroup, starts its own session, drops to the app's user, sets
rlimits and execs `bash -c COMMAND`. Its output reaches hoist line by line through the shim, which
keeps it while hoist is away; a restarted hoist reconnects (`recover`) and adopts what it wants."""
from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from dataclasses import replace
from collections.abc import Awaitable
from pathlib import Path
from typing import Callable

from hoist.contain import shimmed
from hoist.contain.cgroups import CgroupError, Limits as UnitLimits, Tree, Unit
from hoist.contain.shimmed import Launch, ShimError, ShimProcess, Zygote
from hoist.dynos.attached import AttachedProcess, spawn_attached
from hoist.dynos.isolation import Limits, RunAs
from hoist.dynos.process import (LINGER, DynoRecord, forget, kill_unit, peek_pid, read_records, runtime_dir,
                                 with_pid, write_record)
from hoist.dynos.scheduler import DynoSpec, Survivor
from hoist.logs.line import now_iso
from hoist.procs import group_alive, killpg

Sink = Callable[[str, str], tuple[Callable[[str], None], Callable[[int], None]]]


class SpawnError(Exception):
    """A dyno could not be started; the message says why and what to do."""


class LocalScheduler:
    """`run_as(app)` names the user an app's dynos run as (None: hoist's own user); `limits` are the rlimits
    of each dyno process; `tree` (None: not contained) holds each dyno's cgroup, with `unit_limits` for the
    whole dyno; `guard(app)` runs before an app's dyno starts (the firewall guards the app's listeners),
    `unguard(app)` once the app is gone;
    `log_rate` lines/s per dyno reach hoist (the shim drops the excess and says how many)."""

    def __init__(self, run_dir: Path, run_as: Callable[[str], RunAs | None] | None = None,
                 limits: Limits | None = None, *, tree: Tree | None = None, unit_limits: UnitLimits | None = None,
                 guard: Callable[[str], Awaitable[None]] | None = None,
                 unguard: Callable[[str], Awaitable[None]] | None = None, log_rate: float = 0.0,
                 linger: float = LINGER, group: Callable[[str], str] | None = None,
                 renamed: Callable[[str, str], None] | None = None) -> None:
        self.run_dir = run_dir
        self.run_as = run_as
        self.limits = limits
        self.tree = tree
        self.unit_limits = unit_limits
        self.guard = guard
        self.unguard = unguard
        self.log_rate = log_rate
        self.linger = linger
        # The name of an app's cgroup: something a rename does not change (its user's uid), so a renamed
        # app's running dynos stay in their cgroup and a new app of the old name gets another one.
        self.group = group or (lambda app: app)
        self.renamed = renamed  # the firewall follows a rename
        self.live: set[ShimProcess | AttachedProcess] = set()  # every dyno process not cleaned up yet
        self.zygote = Zygote(tree.unit("shims") if tree is not None else None)  # forks each dyno's shim
        run_dir.mkdir(parents=True, exist_ok=True)

    def _track(self, proc: ShimProcess | AttachedProcess) -> None:
        self.live.add(proc)
        proc.finished.add_done_callback(lambda _f: self.live.discard(proc))

    async def close(self) -> None:
        """hoist stops: kill whatever dyno is still running (one-offs nobody stopped, a release phase) and
        wait until each is cleaned up (its shim gone, its record and cgroup removed)."""
        procs = list(self.live)
        for proc in procs:
            if proc.returncode is None:
                proc.signal(signal.SIGKILL)
        if procs:
            await asyncio.wait([asyncio.ensure_future(p.closed()) for p in procs], timeout=10)
        await self.zygote.close()

    def _launch(self, spec: DynoSpec, tty: bool = False) -> tuple[Launch, str]:
        """What the launcher runs for the dyno (`bash -c`, as the app's user when isolated), and its runtime dir."""
        user = self.run_as(spec.app) if self.run_as else None
        env, rundir = spec.env, ""
        if "XDG_RUNTIME_DIR" not in env:  # the app's own config var wins
            rundir = str(runtime_dir(user.uid if user else None, user.gid if user else None))
            env = {**env, "XDG_RUNTIME_DIR": rundir}
        rlimits = self.limits.rlimits() if self.limits is not None and user is not None else ()
        return Launch(["/bin/bash", "-c", spec.command], env, str(spec.cwd), user.uid if user else None,
                      user.gid if user else None, rlimits, tty), rundir

    async def _prepare(self, spec: DynoSpec, tty: bool = False) -> tuple[Launch, DynoRecord, Unit | None]:
        """Record the dyno, guard its app, make its cgroup: everything before its first process."""
        key = spec.id or str(uuid.uuid4())
        launch, rundir = self._launch(spec, tty)
        unit = self.tree.unit("apps", self.group(spec.app), f"{spec.name}@{key}") if self.tree is not None else None
        port = int(spec.env["PORT"]) if spec.env.get("PORT", "").isdigit() else None
        rec = DynoRecord(key, spec.app, spec.name, spec.release, port, rundir, unit.rel if unit else "", since=now_iso())
        write_record(self.run_dir, rec)
        try:
            if self.guard is not None:
                await self.guard(spec.app)
            if unit is not None:
                unit.create(self.unit_limits)
        except CgroupError as exc:
            forget(self.run_dir, rec)
            raise SpawnError(f"{spec.name} of {spec.app} could not be contained: {exc}") from None
        return launch, rec, unit

    async def detach(self) -> None:
        """hoist hands over: the dynos go on under their shims; only the zygote (hoist's own helper) goes."""
        self.live.clear()
        await self.zygote.close()

    async def spawn(self, spec: DynoSpec, on_line: Callable[[str], None],
                    on_dropped: Callable[[int], None] | None = None) -> ShimProcess:
        launch, rec, unit = await self._prepare(spec)
        try:
            proc = await shimmed.start(launch, listen=rec.socket(self.run_dir), unit=unit,
                                       shim_unit=self.tree.unit("shims") if self.tree is not None else None,
                                       rate=self.log_rate, on_line=on_line, on_dropped=on_dropped,
                                       linger=self.linger, cleanup=lambda: forget(self.run_dir, rec),
                                       zygote=self.zygote)
        except ShimError as exc:
            self._discard(rec, unit)
            raise SpawnError(f"{spec.name} of {spec.app} did not start: {exc}") from None
        if not proc.finished.done():  # else it is gone already, and so is its record
            write_record(self.run_dir, with_pid(rec, proc.pid))
        self._track(proc)
        return proc

    async def spawn_attached(self, spec: DynoSpec, *, tty: bool, rows: int = 24, cols: int = 80) -> AttachedProcess:
        """Start a one-off dyno whose stdin/output a client drives (see hoist.dynos.attached)."""
        launch, rec, unit = await self._prepare(spec, tty)
        try:
            attached = await spawn_attached(self.run_dir, rec, launch, unit=unit, rows=rows, cols=cols)
        except BaseException:
            self._discard(rec, unit)
            raise
        self._track(attached)
        return attached

    def _discard(self, rec: DynoRecord, unit: Unit | None) -> None:
        kill_unit(unit, rec.pid)
        if unit is not None and unit.wait_empty(2.0):
            with contextlib.suppress(CgroupError):
                unit.remove()
        forget(self.run_dir, rec)

    async def forget_app(self, app: str) -> None:
        """The app is destroyed (its formation is stopped): kill whatever is left of it — one-off dynos, a
        release phase, anything they started in any session — and remove its cgroup."""
        if self.unguard is not None:
            await self.unguard(app)
        if self.tree is None:
            return
        units = [*self.tree.units("apps", self.group(app))]
        for unit in units:
            unit.kill()
        for unit in units:
            if await asyncio.to_thread(unit.wait_empty, 5.0):
                unit.remove()
        self.tree.remove_all("apps", self.group(app))

    def rename(self, old: str, new: str) -> None:
        """Records of the app's running dynos name it `new` (a restarted hoist adopts them for it)."""
        for rec in read_records(self.run_dir):
            if rec.app == old:
                write_record(self.run_dir, replace(rec, app=new))
        if self.renamed is not None:
            self.renamed(old, new)

    def _unit_of(self, rec: DynoRecord) -> Unit | None:
        return self.tree.unit(rec.unit) if self.tree is not None and rec.unit else None

    async def recover(self, sink: Sink) -> list[Survivor]:
        """After a restart: reconnect to the shim of every recorded dyno (`sink(app, dyno)` gives the line
        and drop callbacks of each) and return them; stop every other dyno a previous hoist left: a record
        whose shim is gone, and any cgroup of hoist's tree that no live record names."""
        survivors: list[Survivor] = []
        for rec in read_records(self.run_dir):
            on_line, on_dropped = sink(rec.app, rec.name)
            unit = self._unit_of(rec)
            cleanup = (lambda r: lambda: forget(self.run_dir, r))(rec)
            proc = await shimmed.attach(rec.socket(self.run_dir), unit, on_line=on_line, on_dropped=on_dropped,
                                        linger=self.linger, cleanup=cleanup) if rec.app else None
            if proc is None:
                await asyncio.to_thread(self._discard, rec, unit)
                continue
            self._track(proc)
            survivors.append(Survivor(rec.app, rec.name, rec.release, rec.port, rec.id, proc, rec.since))
        if self.tree is not None:
            live = {s.proc.unit.rel for s in survivors if isinstance(s.proc, ShimProcess) and s.proc.unit}
            for app in list(self.tree.units("apps")):
                for unit in list(self.tree.units(app.rel)):
                    if unit.rel not in live:  # recorded nowhere, or its shim is gone: the cgroup is the record
                        unit.kill()
                        if await asyncio.to_thread(unit.wait_empty, 5.0):
                            unit.remove()
        return survivors

    def cleanup_orphans(self, grace: float = 5.0) -> int:
        """Stop every recorded dyno (SIGTERM, `grace`, SIGKILL), as if hoist had died; return how many."""
        recs = read_records(self.run_dir)
        targets = [(rec, self._unit_of(rec), rec.pid or peek_pid(rec.socket(self.run_dir))) for rec in recs]
        for rec, unit, pid in targets:
            if unit is not None:
                unit.signal(signal.SIGTERM)
            elif pid:
                killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(
                (u.populated() if u is not None else bool(p) and group_alive(p)) for _, u, p in targets):
            time.sleep(0.05)
        for rec, unit, pid in targets:
            kill_unit(unit, pid)
            if unit is not None and unit.wait_empty(2.0):
                with contextlib.suppress(CgroupError):
                    unit.remove()
            forget(self.run_dir, rec)  # its shim sees its socket gone and leaves
        return len(targets)
