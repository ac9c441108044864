"""The scheduler's loop: it sleeps until the next job is due, claims the due jobs (their next due times move
forward in the same transaction, so no occurrence runs twice), and starts each run as a one-off dyno
`scheduler.N` of the app's current release, through the same one-off machinery as `hoist run:detached`.

A run may last until its job is next due: then it is stopped (SIGTERM, grace, SIGKILL), as Heroku stops an
overrunning scheduler dyno. Jobs missed while hoist was down are due at start and run once."""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from hoist.addons.scheduler.timing import decide
from hoist.platform.addon_refs import AddonPlatform
from hoist.platform.schedules import Schedules, schedule_of
from hoist.dynos.oneoff import OneOffs, exit_code
from hoist.state import apps as apps_t
from hoist.state import releases as releases_t
from hoist.state import scheduler_jobs as jobs_t
from hoist.state.scheduler_jobs import Job

MAX_SLEEP = 30.0  # look again at least this often (a clock that jumps, a job added by another process)


class ScheduleRunner:
    def __init__(self, platform: AddonPlatform, schedules: Schedules, oneoffs: OneOffs,
                 say: Callable[[str], None] = print, clock: Callable[[], float] = time.time) -> None:
        self.platform = platform
        self.db = platform.db
        self.schedules = schedules
        self.oneoffs = oneoffs
        self.say = say
        self.clock = clock
        self._wake: asyncio.Event | None = None

    def wake(self) -> None:
        """Jobs changed: look again now."""
        if self._wake is not None:
            self._wake.set()

    async def run_due(self) -> list[str]:
        """Start every job due now; return the dynos started."""
        now = self.clock()
        tick = self.schedules.tick
        claimed = jobs_t.claim_due(self.db, now, lambda job: decide(schedule_of(job), job.next_run, now, tick).next_run)
        started: list[str] = []
        for job in claimed:
            try:
                name = await self._start(job, now)
            except Exception as exc:  # noqa: BLE001 - one job that cannot start must not stop the others
                jobs_t.record_run(self.db, job.id, now, status="failed to start")
                self.say(f"scheduler job {job.id} did not start: {exc!r}")
                continue
            if name:
                started.append(name)
        return started

    async def _start(self, job: Job, now: float) -> str:
        app = apps_t.get_app(self.db, job.app_id)
        rel = releases_t.current_release(self.db, job.app_id) if app else None
        run = self.platform.run_release(app, rel) if app and rel else None
        if app is None or run is None:
            jobs_t.record_run(self.db, job.id, now, status="no release")
            return ""
        limit = max(1.0, job.next_run - now)  # until the job is next due

        def finished(rc: int) -> None:  # (a run stopped for overrunning is already followed by the next)
            jobs_t.record_run(self.db, job.id, now, status=str(exit_code(rc)))
        d = await self.oneoffs.create(app.name, run, job.command, extra_env={}, attach=False, tty=False,
                                      time_to_live=limit, kind="scheduler", on_exit=finished)
        jobs_t.record_run(self.db, job.id, now, dyno=d.name)
        return d.name

    async def run(self) -> None:
        """The server task: run what is due, then sleep until the next due time (or a change)."""
        self._wake = asyncio.Event()
        self.schedules.changed = self.wake
        while True:
            try:
                await self.run_due()
            except Exception as exc:  # noqa: BLE001 - a bad row must not stop the scheduler
                self.say(f"scheduler: {exc!r}")
            upcoming = jobs_t.earliest_next_run(self.db)
            delay = MAX_SLEEP if upcoming is None else min(MAX_SLEEP, max(0.0, upcoming - self.clock()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
