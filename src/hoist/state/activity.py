"""The per-app activity log: who did what, append only."""
from __future__ import annotations

from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Activity:
    id: int
    app_id: str
    user_email: str
    action: str
    detail: str
    created_at: str


def record(db: Database, app_id: str, user_email: str, action: str, detail: str = "") -> None:
    with db.transaction() as c:
        c.execute("INSERT INTO activity (app_id, user_email, action, detail, created_at) VALUES (?,?,?,?,?)",
                  (app_id, user_email, action, detail, utcnow()))


def list_for_app(db: Database, app_id: str) -> list[Activity]:
    rows = db.query("SELECT * FROM activity WHERE app_id = ? ORDER BY id", (app_id,))
    return [Activity(r["id"], r["app_id"], r["user_email"], r["action"], r["detail"], r["created_at"]) for r in rows]
