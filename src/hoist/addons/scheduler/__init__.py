"""Heroku Scheduler (``addons:create scheduler``): jobs that run a command of the app every 10 minutes, every
hour or every day (UTC), each run a one-off dyno ``scheduler.N`` of the app's current release.

Same folder shape as the other providers, less the server it does not have:

``errors.py``    ``SchedulerError`` (an AddonError): an unknown interval, a bad ``--at``, an empty command.
``timing.py``    pure: ``parse_schedule(every, at) -> Schedule``, ``parse_command``, ``next_due(schedule,
                 after, tick)``, ``decide(schedule, next_run, now, tick) -> Decision`` (a job due, even many
                 times over while hoist was down, runs once; its next due time follows now).
``provider.py``  ``SchedulerProvider``: the Provider shape; provisions nothing (no URL, no config var).

The jobs live in hoist's database (``state/scheduler_jobs.py``, migration 6), so they survive restarts. The
platform side runs them: ``core/schedules.py`` (add, list, remove: the checks a user sees) and
``core/schedule_runner.py`` (the loop that claims due jobs in one transaction, then starts each through
``dynos.oneoff.OneOffs`` with a time limit that ends when the job is next due)."""
from __future__ import annotations

from hoist.addons.scheduler.errors import SchedulerError

__all__ = ["SchedulerError"]
