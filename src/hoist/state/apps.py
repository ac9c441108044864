"""Apps table."""
from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from hoist.state.db import Database, utcnow


class NameTaken(Exception):
    pass


@dataclass(frozen=True)
class App:
    id: str
    name: str
    owner_id: str
    created_at: str
    updated_at: str
    released_at: str | None
    maintenance: bool
    build_metadata: dict[str, Any] | None


def _app(r: sqlite3.Row) -> App:
    meta = json.loads(r["build_metadata"]) if r["build_metadata"] else None
    return App(r["id"], r["name"], r["owner_id"], r["created_at"], r["updated_at"], r["released_at"], bool(r["maintenance"]), meta)


def create_app(db: Database, name: str, owner_id: str) -> App:
    aid = str(uuid.uuid4())
    now = utcnow()
    try:
        with db.transaction() as c:
            c.execute(
                "INSERT INTO apps (id, name, owner_id, created_at, updated_at) VALUES (?,?,?,?,?)",
                (aid, name, owner_id, now, now),
            )
    except sqlite3.IntegrityError:
        raise NameTaken(name) from None
    return App(aid, name, owner_id, now, now, None, False, None)


def get_app(db: Database, name_or_id: str) -> App | None:
    row = db.query_one("SELECT * FROM apps WHERE name = ? OR id = ?", (name_or_id, name_or_id))
    return _app(row) if row else None


def list_apps(db: Database, owner_id: str | None = None) -> list[App]:
    if owner_id is None:
        rows = db.query("SELECT * FROM apps ORDER BY name")
    else:
        rows = db.query("SELECT * FROM apps WHERE owner_id = ? ORDER BY name", (owner_id,))
    return [_app(r) for r in rows]


def update_app(db: Database, app_id: str, **fields: Any) -> None:
    allowed = {"name", "maintenance", "released_at", "build_metadata"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    if "build_metadata" in fields and fields["build_metadata"] is not None:
        fields["build_metadata"] = json.dumps(fields["build_metadata"])
    if "maintenance" in fields:
        fields["maintenance"] = int(bool(fields["maintenance"]))
    fields["updated_at"] = utcnow()
    cols = ", ".join(f"{k} = ?" for k in fields)
    try:
        with db.transaction() as c:
            c.execute(f"UPDATE apps SET {cols} WHERE id = ?", (*fields.values(), app_id))
    except sqlite3.IntegrityError:
        raise NameTaken(str(fields.get("name"))) from None


def set_owner(db: Database, app_id: str, owner_id: str, previous_id: str, keep_previous: bool) -> None:
    """Hand the app to `owner_id` in one transaction: the new owner is no longer a collaborator, and
    the previous owner becomes one when `keep_previous`."""
    with db.transaction() as c:
        c.execute("UPDATE apps SET owner_id = ?, updated_at = ? WHERE id = ?", (owner_id, utcnow(), app_id))
        c.execute("DELETE FROM collaborators WHERE app_id = ? AND user_id = ?", (app_id, owner_id))
        if keep_previous:
            c.execute("INSERT OR IGNORE INTO collaborators (id, app_id, user_id, created_at) VALUES (?,?,?,?)",
                      (str(uuid.uuid4()), app_id, previous_id, utcnow()))


def repoint_paths(db: Database, app_id: str, old: str, new: str) -> None:
    """Paths stored for the app under directory `old` now start with `new`: slug envs, backups and the
    add-ons' own data (a Redis server's directory), in one transaction."""
    old, new = old.rstrip("/") + "/", new.rstrip("/") + "/"
    n = len(old)
    with db.transaction() as c:
        for table, column in (("slugs", "env_dir"), ("backups", "path")):
            c.execute(f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                      f"WHERE app_id = ? AND substr({column}, 1, ?) = ?", (new, n + 1, app_id, n, old))
        c.execute("UPDATE addons SET provider = replace(provider, ?, ?) WHERE app_id = ?",
                  (json.dumps(old)[:-1], json.dumps(new)[:-1], app_id))


def delete_app(db: Database, app_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM builds WHERE app_id = ?", (app_id,))
        c.execute("DELETE FROM releases WHERE app_id = ?", (app_id,))
        c.execute("DELETE FROM slugs WHERE app_id = ?", (app_id,))
        c.execute("DELETE FROM apps WHERE id = ?", (app_id,))
