"""Heroku Scheduler's jobs: one row per job, with when it is next due and how its last run went.

`claim_due` is the one place a run is decided: in one transaction it picks the due jobs and moves each one's
next due time forward before any run starts, so a hoist that stops (or dies) around a due time can never
run the same occurrence twice."""
from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Job:
    id: str
    app_id: str
    addon_id: str
    command: str
    every: str  # 10m | 1h | 1d
    at: str  # "" | ":MM" | "HH:MM"
    next_run: float  # UTC seconds since the epoch
    last_run: float | None
    last_dyno: str | None  # scheduler.N
    last_status: str | None  # starting | an exit status | no release | failed to start
    created_at: str


def _job(r: sqlite3.Row) -> Job:
    return Job(r["id"], r["app_id"], r["addon_id"], r["command"], r["every"], r["at"], r["next_run"],
               r["last_run"], r["last_dyno"], r["last_status"], r["created_at"])


def create_job(db: Database, app_id: str, addon_id: str, command: str, every: str, at: str,
               next_run: float) -> Job:
    jid, now = secrets.token_hex(4), utcnow()
    with db.transaction() as c:
        c.execute("INSERT INTO scheduler_jobs (id, app_id, addon_id, command, every, at, next_run, created_at) "
                  "VALUES (?,?,?,?,?,?,?,?)", (jid, app_id, addon_id, command, every, at, next_run, now))
    return Job(jid, app_id, addon_id, command, every, at, next_run, None, None, None, now)


def list_jobs(db: Database, app_id: str) -> list[Job]:
    return [_job(r) for r in db.query("SELECT * FROM scheduler_jobs WHERE app_id = ? ORDER BY created_at, id",
                                      (app_id,))]


def get_job(db: Database, job_id: str) -> Job | None:
    row = db.query_one("SELECT * FROM scheduler_jobs WHERE id = ?", (job_id,))
    return _job(row) if row else None


def delete_job(db: Database, job_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM scheduler_jobs WHERE id = ?", (job_id,))


def earliest_next_run(db: Database) -> float | None:
    row = db.query_one("SELECT min(next_run) AS t FROM scheduler_jobs")
    return float(row["t"]) if row and row["t"] is not None else None


def claim_due(db: Database, now: float, next_run: Callable[[Job], float]) -> list[Job]:
    """The jobs due at `now`, each already moved on to `next_run(job)` and marked as starting a run."""
    claimed: list[Job] = []
    with db.transaction() as c:
        rows = c.execute("SELECT * FROM scheduler_jobs WHERE next_run <= ? ORDER BY next_run, id", (now,)).fetchall()
        for row in rows:
            job = _job(row)
            following = next_run(job)
            c.execute("UPDATE scheduler_jobs SET next_run = ?, last_run = ?, last_dyno = NULL, last_status = ? "
                      "WHERE id = ?", (following, now, "starting", job.id))
            claimed.append(Job(job.id, job.app_id, job.addon_id, job.command, job.every, job.at, following, now,
                               None, "starting", job.created_at))
    return claimed


def record_run(db: Database, job_id: str, last_run: float, *, dyno: str | None = None,
               status: str | None = None) -> None:
    """Note the dyno and/or outcome of the run that started at `last_run` (a later run's row is left alone)."""
    with db.transaction() as c:
        if dyno is not None:
            c.execute("UPDATE scheduler_jobs SET last_dyno = ? WHERE id = ? AND last_run = ?", (dyno, job_id, last_run))
        if status is not None:
            c.execute("UPDATE scheduler_jobs SET last_status = ? WHERE id = ? AND last_run = ?",
                      (status, job_id, last_run))
