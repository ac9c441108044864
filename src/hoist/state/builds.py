"""Builds: one row per push, its status and what it produced."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Build:
    id: str
    app_id: str
    user_id: str | None
    status: str  # pending | succeeded | failed
    source_version: str | None
    slug_id: str | None
    release_id: str | None
    created_at: str
    updated_at: str


def _b(r: sqlite3.Row) -> Build:
    return Build(r["id"], r["app_id"], r["user_id"], r["status"], r["source_version"], r["slug_id"],
                 r["release_id"], r["created_at"], r["updated_at"])


def create_build(db: Database, app_id: str, user_id: str | None, source_version: str | None) -> Build:
    bid = str(uuid.uuid4())
    now = utcnow()
    with db.transaction() as c:
        c.execute(
            "INSERT INTO builds (id, app_id, user_id, status, source_version, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
            (bid, app_id, user_id, "pending", source_version, now, now),
        )
    b = get_build(db, app_id, bid)
    assert b is not None
    return b


def finish_build(db: Database, build_id: str, status: str, slug_id: str | None = None, release_id: str | None = None) -> None:
    with db.transaction() as c:
        c.execute(
            "UPDATE builds SET status = ?, slug_id = COALESCE(?, slug_id), release_id = COALESCE(?, release_id), updated_at = ? WHERE id = ?",
            (status, slug_id, release_id, utcnow(), build_id),
        )


def get_build(db: Database, app_id: str, build_id: str) -> Build | None:
    row = db.query_one("SELECT * FROM builds WHERE app_id = ? AND id = ?", (app_id, build_id))
    return _b(row) if row else None


def find_build(db: Database, build_id: str) -> Build | None:
    """A build by its id alone (ids are unique across apps)."""
    row = db.query_one("SELECT * FROM builds WHERE id = ?", (build_id,))
    return _b(row) if row else None


def list_builds(db: Database, app_id: str) -> list[Build]:
    return [_b(r) for r in db.query("SELECT * FROM builds WHERE app_id = ? ORDER BY created_at, rowid", (app_id,))]


def fail_pending_builds(db: Database) -> int:
    """Builds left pending by a hoist that died mid-build never finish: mark them failed."""
    with db.transaction() as c:
        cur = c.execute("UPDATE builds SET status = 'failed', updated_at = ? WHERE status = 'pending'", (utcnow(),))
        c.execute("UPDATE releases SET status = 'failed', updated_at = ? WHERE status = 'pending'", (utcnow(),))
        return cur.rowcount
