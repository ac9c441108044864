"""Heroku CI's test runs: one row per run (numbered per app), its verdict and its output; and whether the
app's pushes wait for one (ci_settings)."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow

MAX_OUTPUT = 1024 * 1024  # a run keeps its last 1 MiB of output


@dataclass(frozen=True)
class TestRun:
    __test__ = False  # not a pytest class
    id: str
    app_id: str
    number: int
    commit: str | None
    source: str  # push | connected | rerun
    status: str  # running | succeeded | failed | errored
    exit_code: int | None
    message: str  # why it failed, in words
    output: str
    user_id: str | None
    created_at: str
    finished_at: str | None


@dataclass(frozen=True)
class CiSettings:
    enabled: bool
    time_limit: float | None  # seconds; None: the server's HOIST_CI_TIME_LIMIT


def _run(r: sqlite3.Row) -> TestRun:
    return TestRun(r["id"], r["app_id"], r["number"], r["commit_sha"], r["source"], r["status"], r["exit_code"],
                   r["message"], r["output"], r["user_id"], r["created_at"], r["finished_at"])


def get_settings(db: Database, app_id: str) -> CiSettings:
    row = db.query_one("SELECT enabled, time_limit FROM ci_settings WHERE app_id = ?", (app_id,))
    return CiSettings(bool(row["enabled"]), row["time_limit"]) if row else CiSettings(False, None)


def set_settings(db: Database, app_id: str, enabled: bool, time_limit: float | None) -> CiSettings:
    with db.transaction() as c:
        c.execute("INSERT INTO ci_settings (app_id, enabled, time_limit, updated_at) VALUES (?,?,?,?) "
                  "ON CONFLICT(app_id) DO UPDATE SET enabled = excluded.enabled, time_limit = excluded.time_limit, "
                  "updated_at = excluded.updated_at", (app_id, int(enabled), time_limit, utcnow()))
    return CiSettings(enabled, time_limit)


def create_run(db: Database, app_id: str, commit: str | None, source: str, user_id: str | None) -> TestRun:
    rid, now = str(uuid.uuid4()), utcnow()
    with db.transaction() as c:
        row = c.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM test_runs WHERE app_id = ?", (app_id,)).fetchone()
        c.execute("INSERT INTO test_runs (id, app_id, number, commit_sha, source, status, user_id, created_at) "
                  "VALUES (?,?,?,?,?,?,?,?)", (rid, app_id, row[0], commit, source, "running", user_id, now))
    run = get_run(db, app_id, int(row[0]))
    assert run is not None
    return run


def finish_run(db: Database, run_id: str, status: str, exit_code: int | None, message: str, output: str) -> None:
    if len(output) > MAX_OUTPUT:
        output = "[... earlier output dropped: a run keeps its last 1 MiB ...]\n" + output[-MAX_OUTPUT:]
    with db.transaction() as c:
        c.execute("UPDATE test_runs SET status = ?, exit_code = ?, message = ?, output = ?, finished_at = ? "
                  "WHERE id = ?", (status, exit_code, message, output, utcnow(), run_id))


def get_run(db: Database, app_id: str, number: int) -> TestRun | None:
    row = db.query_one("SELECT * FROM test_runs WHERE app_id = ? AND number = ?", (app_id, number))
    return _run(row) if row else None


def last_run(db: Database, app_id: str) -> TestRun | None:
    row = db.query_one("SELECT * FROM test_runs WHERE app_id = ? ORDER BY number DESC LIMIT 1", (app_id,))
    return _run(row) if row else None


def list_runs(db: Database, app_id: str) -> list[TestRun]:
    return [_run(r) for r in db.query("SELECT * FROM test_runs WHERE app_id = ? ORDER BY number", (app_id,))]


def fail_running(db: Database) -> int:
    """Runs left running by a hoist that died never finish: mark them errored."""
    with db.transaction() as c:
        cur = c.execute("UPDATE test_runs SET status = 'errored', message = 'hoist stopped during the run', "
                        "finished_at = ? WHERE status = 'running'", (utcnow(),))
        return cur.rowcount
