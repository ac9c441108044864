"""Heroku Scheduler's jobs as users change them (API, CLI, dashboard): the checks a user sees, and the rows
the runner (core/schedule_runner.py) reads. A job belongs to the app's scheduler add-on and runs in the
app's current release, so an app needs both before it gets a job."""
from __future__ import annotations

import time
from collections.abc import Callable

from hoist.addons import plans
from hoist.addons.scheduler.errors import SchedulerError
from hoist.addons.scheduler.timing import DEFAULT_TICK, Schedule, next_due, parse_command, parse_schedule
from hoist.platform.addon_refs import AddonPlatform
from hoist.platform.errors import PlatformError
from hoist.state import addons as addons_t
from hoist.state import releases as releases_t
from hoist.state import scheduler_jobs as jobs_t
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.scheduler_jobs import Job
from hoist.state.users import User


def invalid(message: str) -> PlatformError:
    return PlatformError("invalid_params", message, 422, "scheduler_job")


class Schedules:
    def __init__(self, platform: AddonPlatform, tick: float = DEFAULT_TICK,
                 clock: Callable[[], float] = time.time) -> None:
        self.platform = platform
        self.db = platform.db
        self.tick = tick
        self.clock = clock
        self.changed: Callable[[], None] = lambda: None  # the runner's wake-up, set when it starts

    def addon(self, app: App) -> Addon:
        """The app's scheduler add-on; without one, say how to add it."""
        for addon in addons_t.list_addons(self.db, app.id, service=plans.SCHEDULER):
            return addon
        raise invalid(f"{app.name} has no scheduler: add one with `hoist addons:create scheduler -a {app.name}`, "
                      "then add jobs.")

    def list(self, app: App) -> list[Job]:
        return jobs_t.list_jobs(self.db, app.id)

    def add(self, app: App, user: User, command: str, every: str, at: str | None = None) -> Job:
        """A new job, first due at the next matching time (UTC)."""
        addon = self.addon(app)
        try:
            text = parse_command(command)
            schedule = parse_schedule(every, at)
        except SchedulerError as exc:
            raise invalid(str(exc)) from None
        rel = releases_t.current_release(self.db, app.id)
        if rel is None or self.platform.run_release(app, rel) is None:
            raise invalid(f"{app.name} has no release yet, so a job would have no code to run: push first "
                          "(git push hoist main), then add the job.")
        job = jobs_t.create_job(self.db, app.id, addon.id, text, schedule.every, schedule.at,
                                next_due(schedule, self.clock(), self.tick))
        self.platform.logs.emit(app.name, "app", "api", f"Add scheduler job {job.id} ({schedule.describe()}): "
                                f"`{text}` by user {user.email}")
        self.changed()
        return job

    def find(self, app: App, job_id: str) -> Job:
        for job in self.list(app):
            if job.id == job_id.strip():
                return job
        raise PlatformError("not_found", f"{app.name} has no scheduler job {job_id!r}; run `hoist scheduler "
                            f"-a {app.name}` to list them.", 404, "scheduler_job")

    def remove(self, app: App, user: User, job_id: str) -> Job:
        """Delete a job (a run still going finishes, or meets its time limit)."""
        job = self.find(app, job_id)
        jobs_t.delete_job(self.db, job.id)
        self.platform.logs.emit(app.name, "app", "api", f"Remove scheduler job {job.id} by user {user.email}")
        self.changed()
        return job


def schedule_of(job: Job) -> Schedule:
    return Schedule(job.every, job.at)


def describe(job: Job) -> str:
    """``every hour at :30`` (how listings show a job's schedule)."""
    return schedule_of(job).describe()
