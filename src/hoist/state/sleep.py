"""The per-app sleep setting (`ps:sleep on|off`), a column of the apps table."""
from __future__ import annotations

from hoist.state.db import Database


def get_sleep(db: Database, app_id: str) -> bool:
    row = db.query_one("SELECT sleep FROM apps WHERE id = ?", (app_id,))
    return bool(row and row["sleep"])


def set_sleep(db: Database, app_id: str, on: bool) -> None:
    with db.transaction() as c:
        c.execute("UPDATE apps SET sleep = ? WHERE id = ?", (int(on), app_id))


def sleeping_apps(db: Database) -> list[str]:
    """Names of the apps that may sleep."""
    return [r["name"] for r in db.query("SELECT name FROM apps WHERE sleep = 1 ORDER BY name")]
