"""Add-ons table: one row per provisioned Postgres database or Redis server."""
from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from hoist.state.db import Database, utcnow


class AddonNameTaken(Exception):
    pass


@dataclass(frozen=True)
class Addon:
    id: str
    app_id: str
    name: str
    service: str  # heroku-postgresql | heroku-redis
    plan: str
    state: str  # provisioning | provisioned | deprovisioned
    config_vars: list[str]  # the attachment's vars, e.g. ["DATABASE_URL"]
    provider: dict[str, Any]  # database, user, host, port (never a password)
    created_at: str
    updated_at: str


def _addon(r: sqlite3.Row) -> Addon:
    return Addon(r["id"], r["app_id"], r["name"], r["service"], r["plan"], r["state"],
                 json.loads(r["config_vars"]), json.loads(r["provider"]), r["created_at"], r["updated_at"])


def create_addon(db: Database, app_id: str, name: str, service: str, plan: str,
                 config_vars: list[str], provider: dict[str, Any] | None = None) -> Addon:
    aid, now = str(uuid.uuid4()), utcnow()
    try:
        with db.transaction() as c:
            c.execute("INSERT INTO addons (id, app_id, name, service, plan, state, config_vars, provider, "
                      "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (aid, app_id, name, service, plan, "provisioning", json.dumps(config_vars),
                       json.dumps(provider or {}), now, now))
    except sqlite3.IntegrityError:
        raise AddonNameTaken(name) from None
    return Addon(aid, app_id, name, service, plan, "provisioning", config_vars, provider or {}, now, now)


def get_addon(db: Database, name_or_id: str) -> Addon | None:
    row = db.query_one("SELECT * FROM addons WHERE name = ? OR id = ?", (name_or_id, name_or_id))
    return _addon(row) if row else None


def list_addons(db: Database, app_id: str | None = None, service: str | None = None) -> list[Addon]:
    sql, params = "SELECT * FROM addons WHERE 1=1", []
    if app_id is not None:
        sql += " AND app_id = ?"
        params.append(app_id)
    if service is not None:
        sql += " AND service = ?"
        params.append(service)
    return [_addon(r) for r in db.query(sql + " ORDER BY created_at, name", tuple(params))]


def update_addon(db: Database, addon_id: str, *, state: str | None = None, config_vars: list[str] | None = None,
                 provider: dict[str, Any] | None = None) -> None:
    fields: dict[str, Any] = {"updated_at": utcnow()}
    if state is not None:
        fields["state"] = state
    if config_vars is not None:
        fields["config_vars"] = json.dumps(config_vars)
    if provider is not None:
        fields["provider"] = json.dumps(provider)
    cols = ", ".join(f"{k} = ?" for k in fields)
    with db.transaction() as c:
        c.execute(f"UPDATE addons SET {cols} WHERE id = ?", (*fields.values(), addon_id))


def delete_addon(db: Database, addon_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM addons WHERE id = ?", (addon_id,))
