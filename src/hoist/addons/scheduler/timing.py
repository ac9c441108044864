"""Pure scheduling rules of Heroku Scheduler: the three intervals, the time of day or minute a job runs at,
and when it is next due. Times are UTC seconds since the epoch; nothing here reads a clock.

- every 10 minutes: at :00, :10, :20 ... (every `tick` seconds from the epoch; `tick` is 600 unless the
  server lowers it, HOIST_SCHEDULER_TICK, to try jobs out quickly);
- every hour at a chosen minute (``--at :30``, default ``:00``);
- every day at a chosen time (``--at 02:00``, default ``00:00``).

A job due while hoist was down runs once when it comes back: its next due time is computed from *now*,
never by replaying the occurrences it missed."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hoist.addons.scheduler.errors import SchedulerError

TEN_MINUTES, HOUR, DAY = "10m", "1h", "1d"
DEFAULT_TICK = 600.0
_SPELLINGS = {
    TEN_MINUTES: TEN_MINUTES, "10min": TEN_MINUTES, "10 minutes": TEN_MINUTES, "every 10 minutes": TEN_MINUTES,
    HOUR: HOUR, "60m": HOUR, "hourly": HOUR, "every hour": HOUR,
    DAY: DAY, "24h": DAY, "daily": DAY, "every day": DAY,
}
_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_MM = re.compile(r"^:?([0-5]?[0-9])$")
MAX_COMMAND = 4096


@dataclass(frozen=True)
class Schedule:
    """How often a job runs (``10m``, ``1h``, ``1d``) and at what (``""``, ``:MM``, ``HH:MM``)."""

    every: str
    at: str

    def describe(self) -> str:
        if self.every == TEN_MINUTES:
            return "every 10 minutes"
        return f"every hour at {self.at}" if self.every == HOUR else f"every day at {self.at} UTC"


def parse_schedule(every: str, at: str | None = None) -> Schedule:
    """``--every 10m|1h|1d [--at HH:MM | :MM]`` -> Schedule; anything else raises SchedulerError."""
    key = _SPELLINGS.get((every or "").strip().lower())
    if key is None:
        raise SchedulerError(f"unknown interval {every!r}: Heroku Scheduler runs jobs --every 10m, 1h or 1d")
    raw = (at or "").strip()
    if key == TEN_MINUTES:
        if raw:
            raise SchedulerError("--at does not apply to --every 10m (it runs at :00, :10, :20 ...); "
                                 "use --every 1h --at :MM or --every 1d --at HH:MM")
        return Schedule(key, "")
    if key == HOUR:
        match = _MM.match(raw or ":00")
        if not match:
            raise SchedulerError(f"--at {raw!r}: an hourly job runs at a minute past the hour, e.g. --at :30")
        return Schedule(key, f":{int(match.group(1)):02d}")
    match = _HHMM.match(raw or "00:00")
    if not match:
        raise SchedulerError(f"--at {raw!r}: a daily job runs at a time of day in UTC, e.g. --at 02:00")
    return Schedule(key, f"{int(match.group(1)):02d}:{match.group(2)}")


def parse_command(command: str) -> str:
    """The job's command, as a Procfile line runs it; an empty one says what to type."""
    text = (command or "").strip()
    if not text:
        raise SchedulerError('the command is empty: give the command to run, e.g. scheduler:add "python task.py" '
                             "--every 1h")
    if len(text) > MAX_COMMAND or "\n" in text or "\0" in text:
        raise SchedulerError(f"the command must be one line of at most {MAX_COMMAND} characters; put longer "
                             "scripts in a file of the app and run that")
    return text


def next_due(schedule: Schedule, after: float, tick: float = DEFAULT_TICK) -> float:
    """The first moment strictly after `after` at which the job is due."""
    if schedule.every == TEN_MINUTES:
        if tick <= 0:
            raise SchedulerError("the scheduler's tick must be a positive number of seconds")
        return (after // tick + 1) * tick
    if schedule.every == HOUR:
        offset, period = int(schedule.at[1:]) * 60, 3600
    else:
        hours, minutes = schedule.at.split(":")
        offset, period = int(hours) * 3600 + int(minutes) * 60, 86400
    candidate = (after // period) * period + offset
    return candidate if candidate > after else candidate + period


@dataclass(frozen=True)
class Decision:
    """What to do with a job at `now`: run it (once), and when it is due next."""

    run: bool
    next_run: float


def decide(schedule: Schedule, next_run: float, now: float, tick: float = DEFAULT_TICK) -> Decision:
    """A job due (whether just now or while hoist was down) runs once; its next due time follows `now`."""
    if next_run > now:
        return Decision(False, next_run)
    return Decision(True, next_due(schedule, now, tick))
