"""Config vars: the app's desired configuration. Releases snapshot it."""
from __future__ import annotations

from typing import Mapping

from hoist.state.db import Database


def get_config(db: Database, app_id: str) -> dict[str, str]:
    rows = db.query("SELECT key, value FROM config_vars WHERE app_id = ? ORDER BY key", (app_id,))
    return {r["key"]: r["value"] for r in rows}


def apply_changes(db: Database, app_id: str, changes: Mapping[str, str | None]) -> dict[str, str]:
    """Set (value) or remove (None) keys atomically; return the full new config."""
    with db.transaction() as c:
        for key, value in changes.items():
            if value is None:
                c.execute("DELETE FROM config_vars WHERE app_id = ? AND key = ?", (app_id, key))
            else:
                c.execute(
                    "INSERT INTO config_vars (app_id, key, value) VALUES (?,?,?) "
                    "ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value",
                    (app_id, key, value),
                )
    return get_config(db, app_id)
