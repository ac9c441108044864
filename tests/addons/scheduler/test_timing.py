"""Heroku Scheduler's timing rules, pure: intervals, --at, next due times, and missed runs run once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hoist.addons.scheduler.errors import SchedulerError
from hoist.addons.scheduler.timing import Schedule, decide, next_due, parse_command, parse_schedule


def t(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("every,at,expected", [
    ("10m", None, Schedule("10m", "")), ("10min", "", Schedule("10m", "")),
    ("1h", None, Schedule("1h", ":00")), ("hourly", ":30", Schedule("1h", ":30")), ("1h", "5", Schedule("1h", ":05")),
    ("1d", None, Schedule("1d", "00:00")), ("daily", "2:00", Schedule("1d", "02:00")),
    ("1D", "23:59", Schedule("1d", "23:59")),
])
def test_the_three_intervals_and_their_at(every: str, at: str | None, expected: Schedule) -> None:
    assert parse_schedule(every, at) == expected


@pytest.mark.parametrize("every,at,message", [
    ("5m", None, "unknown interval '5m'"), ("2h", None, "10m, 1h or 1d"), ("", None, "unknown interval"),
    ("10m", ":30", "--at does not apply"), ("1h", "12:30", "minute past the hour"), ("1h", ":60", "--at ':60'"),
    ("1d", "24:00", "time of day"), ("1d", "noon", "time of day"),
])
def test_bad_schedules_say_what_to_type(every: str, at: str | None, message: str) -> None:
    with pytest.raises(SchedulerError, match=message):
        parse_schedule(every, at)


def test_commands_must_be_one_nonempty_line() -> None:
    assert parse_command("  python task.py ") == "python task.py"
    for bad in ("", "   ", "echo a\necho b", "x" * 5000):
        with pytest.raises(SchedulerError, match="empty|one line"):
            parse_command(bad)


def test_next_due_is_strictly_after_and_aligned_in_utc() -> None:
    every10 = Schedule("10m", "")
    assert next_due(every10, t("2026-03-01T10:03:12")) == t("2026-03-01T10:10:00")
    assert next_due(every10, t("2026-03-01T10:10:00")) == t("2026-03-01T10:20:00")
    hourly = Schedule("1h", ":30")
    assert next_due(hourly, t("2026-03-01T10:03:12")) == t("2026-03-01T10:30:00")
    assert next_due(hourly, t("2026-03-01T10:30:00")) == t("2026-03-01T11:30:00")
    daily = Schedule("1d", "02:00")
    assert next_due(daily, t("2026-03-01T01:59:59")) == t("2026-03-01T02:00:00")
    assert next_due(daily, t("2026-03-01T02:00:01")) == t("2026-03-02T02:00:00")
    assert next_due(daily, t("2026-12-31T23:00:00")) == t("2027-01-01T02:00:00")


def test_a_shorter_tick_only_shortens_the_10_minute_interval() -> None:
    assert next_due(Schedule("10m", ""), 1000.5, tick=3) == 1002
    assert next_due(Schedule("1h", ":00"), 1000.5, tick=3) == 3600
    with pytest.raises(SchedulerError):
        next_due(Schedule("10m", ""), 1.0, tick=0)


def test_a_job_missed_many_times_runs_once_and_is_next_due_after_now() -> None:
    every10 = Schedule("10m", "")
    due = t("2026-03-01T10:00:00")
    assert decide(every10, due, due - 1) == decide(every10, due, due - 1) and not decide(every10, due, due - 1).run
    on_time = decide(every10, due, due + 0.2)
    assert on_time.run and on_time.next_run == t("2026-03-01T10:10:00")
    back_after_an_hour = decide(every10, due, t("2026-03-01T11:04:00"))
    assert back_after_an_hour.run and back_after_an_hour.next_run == t("2026-03-01T11:10:00")
    assert not decide(every10, back_after_an_hour.next_run, t("2026-03-01T11:04:00")).run  # never a second time
