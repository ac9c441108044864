"""Log drains: one row per (app, URL). The URL is a secret (it may hold credentials or a token): it is kept
here like a config var and shown elsewhere only masked. The token (d.UUID) names the drain to its receiver."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Drain:
    id: str
    app_id: str
    url: str
    token: str
    created_at: str
    updated_at: str


def _drain(r: sqlite3.Row) -> Drain:
    return Drain(r["id"], r["app_id"], r["url"], r["token"], r["created_at"], r["updated_at"])


def create_drain(db: Database, app_id: str, url: str) -> Drain:
    did, token, now = str(uuid.uuid4()), f"d.{uuid.uuid4()}", utcnow()
    with db.transaction() as c:
        c.execute("INSERT INTO log_drains (id, app_id, url, token, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                  (did, app_id, url, token, now, now))
    return Drain(did, app_id, url, token, now, now)


def list_drains(db: Database, app_id: str) -> list[Drain]:
    return [_drain(r) for r in db.query("SELECT * FROM log_drains WHERE app_id = ? ORDER BY created_at, rowid",
                                        (app_id,))]


def all_drains(db: Database) -> list[tuple[str, Drain]]:
    """Every drain with its app's name (hoist starts them all)."""
    rows = db.query("SELECT d.*, a.name AS app_name FROM log_drains d JOIN apps a ON a.id = d.app_id "
                    "ORDER BY d.created_at, d.rowid")
    return [(r["app_name"], _drain(r)) for r in rows]


def find_drain(db: Database, app_id: str, key: str) -> Drain | None:
    """By id, token or exact URL (Heroku's `drains:remove URL_OR_TOKEN`)."""
    row = db.query_one("SELECT * FROM log_drains WHERE app_id = ? AND (id = ? OR token = ? OR url = ?)",
                       (app_id, key, key, key))
    return _drain(row) if row else None


def delete_drain(db: Database, drain_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM log_drains WHERE id = ?", (drain_id,))
