"""Formation: how many dynos of each process type an app wants."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Formation:
    id: str
    app_id: str
    type: str
    quantity: int
    size: str
    created_at: str
    updated_at: str


def _f(r: sqlite3.Row) -> Formation:
    return Formation(r["id"], r["app_id"], r["type"], int(r["quantity"]), r["size"], r["created_at"], r["updated_at"])


def list_formation(db: Database, app_id: str) -> list[Formation]:
    return [_f(r) for r in db.query("SELECT * FROM formation WHERE app_id = ? ORDER BY type", (app_id,))]


def quantities(db: Database, app_id: str) -> dict[str, int]:
    """What the supervisor runs: process type -> number of dynos."""
    return {f.type: f.quantity for f in list_formation(db, app_id)}


def ensure_types(db: Database, app_id: str, defaults: dict[str, int]) -> None:
    """Create formation rows for new process types with their default quantity; keep existing ones."""
    now = utcnow()
    with db.transaction() as c:
        for ptype, qty in defaults.items():
            c.execute(
                "INSERT OR IGNORE INTO formation (id, app_id, type, quantity, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (str(uuid.uuid4()), app_id, ptype, qty, now, now),
            )


def set_quantity(db: Database, app_id: str, ptype: str, quantity: int, size: str | None = None) -> Formation:
    now = utcnow()
    with db.transaction() as c:
        c.execute(
            "INSERT INTO formation (id, app_id, type, quantity, created_at, updated_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT (app_id, type) DO UPDATE SET quantity = excluded.quantity, updated_at = excluded.updated_at",
            (str(uuid.uuid4()), app_id, ptype, quantity, now, now),
        )
        if size:
            c.execute("UPDATE formation SET size = ? WHERE app_id = ? AND type = ?", (size, app_id, ptype))
    row = db.query_one("SELECT * FROM formation WHERE app_id = ? AND type = ?", (app_id, ptype))
    assert row is not None
    return _f(row)
