"""App setups (`POST /app-setups`): an app created, built and released from a source tarball in one step."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class AppSetup:
    id: str
    app_id: str
    user_id: str | None
    status: str  # pending | succeeded | failed
    failure_message: str | None
    build_id: str | None
    postdeploy_output: str | None
    postdeploy_exit_code: int | None
    created_at: str
    updated_at: str


def _s(r: sqlite3.Row) -> AppSetup:
    return AppSetup(r["id"], r["app_id"], r["user_id"], r["status"], r["failure_message"], r["build_id"],
                    r["postdeploy_output"], r["postdeploy_exit_code"], r["created_at"], r["updated_at"])


def create(db: Database, app_id: str, user_id: str) -> AppSetup:
    sid = str(uuid.uuid4())
    now = utcnow()
    with db.transaction() as c:
        c.execute("INSERT INTO app_setups (id, app_id, user_id, status, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                  (sid, app_id, user_id, "pending", now, now))
    found = get(db, sid)
    assert found is not None
    return found


def get(db: Database, setup_id: str) -> AppSetup | None:
    row = db.query_one("SELECT * FROM app_setups WHERE id = ?", (setup_id,))
    return _s(row) if row else None


def update(db: Database, setup_id: str, **fields: Any) -> None:
    allowed = {"status", "failure_message", "build_id", "postdeploy_output", "postdeploy_exit_code"}
    if set(fields) - allowed:
        raise ValueError(f"cannot update {sorted(set(fields) - allowed)}")
    fields["updated_at"] = utcnow()
    cols = ", ".join(f"{k} = ?" for k in fields)
    with db.transaction() as c:
        c.execute(f"UPDATE app_setups SET {cols} WHERE id = ?", (*fields.values(), setup_id))


def pending_for(db: Database, app_id: str) -> bool:
    return db.query_one("SELECT 1 FROM app_setups WHERE app_id = ? AND status = 'pending'", (app_id,)) is not None


def fail_pending(db: Database) -> int:
    """Setups left pending by a hoist that stopped mid-way never finish: mark them failed."""
    with db.transaction() as c:
        cur = c.execute("UPDATE app_setups SET status = 'failed', failure_message = ?, updated_at = ? "
                        "WHERE status = 'pending'", ("hoist stopped before the setup finished; destroy the app "
                                                     "and set it up again", utcnow()))
        return cur.rowcount
