"""Scheduler jobs in SQLite: claiming moves a job on before it runs, so a restart never runs it twice."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.addons.scheduler.timing import Schedule, decide
from hoist.state import addons as addons_t
from hoist.state import apps as apps_t
from hoist.state import scheduler_jobs as jobs_t
from hoist.state import users as users_t
from hoist.state.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "hoist.db")
    yield database
    database.close()


def claim(db: Database, now: float, tick: float = 600) -> list[jobs_t.Job]:
    return jobs_t.claim_due(db, now, lambda j: decide(Schedule(j.every, j.at), j.next_run, now, tick).next_run)


def test_due_jobs_are_claimed_once_and_survive_a_reopen(db: Database, tmp_path: Path) -> None:
    user = users_t.create_user(db, "a@example.com")
    app = apps_t.create_app(db, "cron", user.id)
    addon = addons_t.create_addon(db, app.id, "scheduler-deep-10001", "scheduler", "standard", [])
    job = jobs_t.create_job(db, app.id, addon.id, "python task.py", "10m", "", 1200.0)
    assert claim(db, 1199.9) == []
    [got] = claim(db, 1200.3)
    assert got.id == job.id and got.next_run == 1800.0 and got.last_run == 1200.3 and got.last_status == "starting"
    assert claim(db, 1200.3) == [] and claim(db, 1799.0) == []  # a restart right after the claim runs nothing
    jobs_t.record_run(db, job.id, 1200.3, dyno="scheduler.1234")
    jobs_t.record_run(db, job.id, 999.0, status="0")  # an older run's outcome does not overwrite this one's
    jobs_t.record_run(db, job.id, 1200.3, status="0")
    db.close()

    reopened = Database(tmp_path / "hoist.db")
    [kept] = jobs_t.list_jobs(reopened, app.id)
    assert (kept.next_run, kept.last_dyno, kept.last_status) == (1800.0, "scheduler.1234", "0")
    [late] = claim(reopened, 5000.0)  # hoist was down through five due times: one run
    assert late.next_run == 5400.0 and claim(reopened, 5000.0) == []
    assert jobs_t.earliest_next_run(reopened) == 5400.0
    addons_t.delete_addon(reopened, addon.id)  # destroying the scheduler removes its jobs
    assert jobs_t.list_jobs(reopened, app.id) == [] and jobs_t.earliest_next_run(reopened) is None
    reopened.close()
