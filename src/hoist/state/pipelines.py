"""Pipelines: a named row, the apps coupled to it at a stage (an app is in at most one pipeline), and
promotions with one target row per downstream app (pending, then succeeded or failed exactly once)."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow

STAGES = ("review", "development", "staging", "production")


@dataclass(frozen=True)
class Pipeline:
    id: str
    name: str
    owner_id: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Coupling:
    id: str
    pipeline_id: str
    app_id: str
    stage: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Promotion:
    id: str
    pipeline_id: str
    source_app_id: str
    source_release_id: str
    status: str  # pending | completed
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Target:
    id: str
    promotion_id: str
    app_id: str
    release_id: str | None
    status: str  # pending | succeeded | failed
    error_message: str | None


def _pipeline(r: sqlite3.Row) -> Pipeline:
    return Pipeline(r["id"], r["name"], r["owner_id"], r["created_at"], r["updated_at"])


def _coupling(r: sqlite3.Row) -> Coupling:
    return Coupling(r["id"], r["pipeline_id"], r["app_id"], r["stage"], r["created_at"], r["updated_at"])


def _promotion(r: sqlite3.Row) -> Promotion:
    return Promotion(r["id"], r["pipeline_id"], r["source_app_id"], r["source_release_id"], r["status"],
                     r["created_at"], r["updated_at"])


def _target(r: sqlite3.Row) -> Target:
    return Target(r["id"], r["promotion_id"], r["app_id"], r["release_id"], r["status"], r["error_message"])


def create_pipeline(db: Database, name: str, owner_id: str) -> Pipeline:
    pid, now = str(uuid.uuid4()), utcnow()
    with db.transaction() as c:
        c.execute("INSERT INTO pipelines (id, name, owner_id, created_at, updated_at) VALUES (?,?,?,?,?)",
                  (pid, name, owner_id, now, now))
    return Pipeline(pid, name, owner_id, now, now)


def get_pipeline(db: Database, id_or_name: str) -> Pipeline | None:
    row = db.query_one("SELECT * FROM pipelines WHERE id = ? OR name = ?", (id_or_name, id_or_name))
    return _pipeline(row) if row else None


def list_pipelines(db: Database) -> list[Pipeline]:
    return [_pipeline(r) for r in db.query("SELECT * FROM pipelines ORDER BY name")]


def delete_pipeline(db: Database, pipeline_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM pipelines WHERE id = ?", (pipeline_id,))


def add_coupling(db: Database, pipeline_id: str, app_id: str, stage: str) -> Coupling:
    cid, now = str(uuid.uuid4()), utcnow()
    with db.transaction() as c:
        c.execute("INSERT INTO pipeline_couplings (id, pipeline_id, app_id, stage, created_at, updated_at) "
                  "VALUES (?,?,?,?,?,?)", (cid, pipeline_id, app_id, stage, now, now))
    return Coupling(cid, pipeline_id, app_id, stage, now, now)


def coupling_of_app(db: Database, app_id: str) -> Coupling | None:
    row = db.query_one("SELECT * FROM pipeline_couplings WHERE app_id = ?", (app_id,))
    return _coupling(row) if row else None


def get_coupling(db: Database, coupling_id: str) -> Coupling | None:
    row = db.query_one("SELECT * FROM pipeline_couplings WHERE id = ?", (coupling_id,))
    return _coupling(row) if row else None


def couplings(db: Database, pipeline_id: str) -> list[Coupling]:
    return [_coupling(r) for r in db.query("SELECT * FROM pipeline_couplings WHERE pipeline_id = ? "
                                           "ORDER BY created_at, rowid", (pipeline_id,))]


def set_stage(db: Database, coupling_id: str, stage: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE pipeline_couplings SET stage = ?, updated_at = ? WHERE id = ?",
                  (stage, utcnow(), coupling_id))


def delete_coupling(db: Database, coupling_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM pipeline_couplings WHERE id = ?", (coupling_id,))


def create_promotion(db: Database, pipeline_id: str, source_app_id: str, source_release_id: str,
                     target_app_ids: list[str]) -> Promotion:
    pid, now = str(uuid.uuid4()), utcnow()
    with db.transaction() as c:
        c.execute("INSERT INTO pipeline_promotions (id, pipeline_id, source_app_id, source_release_id, status, "
                  "created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                  (pid, pipeline_id, source_app_id, source_release_id, "pending", now, now))
        for app_id in target_app_ids:
            c.execute("INSERT INTO promotion_targets (id, promotion_id, app_id, status) VALUES (?,?,?,?)",
                      (str(uuid.uuid4()), pid, app_id, "pending"))
    return Promotion(pid, pipeline_id, source_app_id, source_release_id, "pending", now, now)


def get_promotion(db: Database, promotion_id: str) -> Promotion | None:
    row = db.query_one("SELECT * FROM pipeline_promotions WHERE id = ?", (promotion_id,))
    return _promotion(row) if row else None


def targets(db: Database, promotion_id: str) -> list[Target]:
    return [_target(r) for r in db.query("SELECT * FROM promotion_targets WHERE promotion_id = ? ORDER BY rowid",
                                         (promotion_id,))]


def finish_target(db: Database, target_id: str, status: str, release_id: str | None,
                  error_message: str | None = None) -> None:
    """A target succeeded or failed; the promotion completes with its last target."""
    with db.transaction() as c:
        c.execute("UPDATE promotion_targets SET status = ?, release_id = ?, error_message = ? WHERE id = ?",
                  (status, release_id, error_message, target_id))
        c.execute("UPDATE pipeline_promotions SET status = 'completed', updated_at = ? WHERE id = "
                  "(SELECT promotion_id FROM promotion_targets WHERE id = ?) AND NOT EXISTS (SELECT 1 FROM "
                  "promotion_targets WHERE promotion_id = pipeline_promotions.id AND status = 'pending')",
                  (utcnow(), target_id))


def set_target_release(db: Database, target_id: str, release_id: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE promotion_targets SET release_id = ? WHERE id = ?", (release_id, target_id))


def fail_pending(db: Database) -> int:
    """Promotions a stopped hoist left pending fail (at start): nothing finishes them now."""
    with db.transaction() as c:
        n = c.execute("UPDATE promotion_targets SET status = 'failed', error_message = "
                      "'hoist stopped during the promotion; promote again' WHERE status = 'pending'").rowcount
        c.execute("UPDATE pipeline_promotions SET status = 'completed', updated_at = ? WHERE status = 'pending'",
                  (utcnow(),))
    return int(n)
