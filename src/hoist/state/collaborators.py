"""App collaborators: users other than the owner who may act on an app."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Collaborator:
    id: str
    app_id: str
    user_id: str
    email: str
    created_at: str


def _collab(r: sqlite3.Row) -> Collaborator:
    return Collaborator(r["id"], r["app_id"], r["user_id"], r["email"], r["created_at"])


def add(db: Database, app_id: str, user_id: str) -> Collaborator | None:
    """Add the user; None if they already collaborate."""
    cid = str(uuid.uuid4())
    try:
        with db.transaction() as c:
            c.execute("INSERT INTO collaborators (id, app_id, user_id, created_at) VALUES (?,?,?,?)",
                      (cid, app_id, user_id, utcnow()))
    except sqlite3.IntegrityError:
        return None
    return get(db, app_id, user_id)


def get(db: Database, app_id: str, user_id: str) -> Collaborator | None:
    row = db.query_one("SELECT c.*, u.email FROM collaborators c JOIN users u ON u.id = c.user_id "
                       "WHERE c.app_id = ? AND c.user_id = ?", (app_id, user_id))
    return _collab(row) if row else None


def list_for_app(db: Database, app_id: str) -> list[Collaborator]:
    rows = db.query("SELECT c.*, u.email FROM collaborators c JOIN users u ON u.id = c.user_id "
                    "WHERE c.app_id = ? ORDER BY u.email", (app_id,))
    return [_collab(r) for r in rows]


def remove(db: Database, app_id: str, user_id: str) -> bool:
    with db.transaction() as c:
        cur = c.execute("DELETE FROM collaborators WHERE app_id = ? AND user_id = ?", (app_id, user_id))
    return cur.rowcount > 0


def is_collaborator(db: Database, app_id: str, user_id: str) -> bool:
    return db.query_one("SELECT 1 FROM collaborators WHERE app_id = ? AND user_id = ?", (app_id, user_id)) is not None


def app_ids_for(db: Database, user_id: str) -> set[str]:
    return {r["app_id"] for r in db.query("SELECT app_id FROM collaborators WHERE user_id = ?", (user_id,))}
