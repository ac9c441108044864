"""Slugs and releases. Both are immutable once written, except a release's
status, which moves from pending to succeeded, failed or expired exactly once."""
from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Mapping

from hoist.contracts import appjson
from hoist.contracts.appjson import AppJson
from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Slug:
    id: str
    app_id: str
    commit: str | None
    process_types: dict[str, str]
    env_dir: str | None
    python_version: str | None
    size: int
    app_json: AppJson | None  # stored as the JSON of AppJson.to_json()
    created_at: str


@dataclass(frozen=True)
class Release:
    id: str
    app_id: str
    version: int
    slug_id: str | None
    config: dict[str, str]
    description: str
    status: str  # pending | succeeded | failed (its release phase failed) | expired (it did not boot)
    user_id: str | None
    created_at: str
    updated_at: str


def _slug(r: sqlite3.Row) -> Slug:
    return Slug(
        r["id"], r["app_id"], r["commit_sha"], json.loads(r["process_types"]), r["env_dir"],
        r["python_version"], int(r["size"]), _app_json(r["app_json"]), r["created_at"],
    )


def _app_json(text: str | None) -> AppJson | None:
    return appjson.from_json(json.loads(text)) if text else None


def _release(r: sqlite3.Row) -> Release:
    return Release(
        r["id"], r["app_id"], int(r["version"]), r["slug_id"], json.loads(r["config"]), r["description"],
        r["status"], r["user_id"], r["created_at"], r["updated_at"],
    )


def create_slug(
    db: Database, app_id: str, *, slug_id: str, commit: str | None, process_types: Mapping[str, str],
    env_dir: str | None, python_version: str | None, size: int, app_json: AppJson | None,
) -> Slug:
    now = utcnow()
    with db.transaction() as c:
        c.execute(
            "INSERT INTO slugs (id, app_id, commit_sha, process_types, env_dir, python_version, size, app_json, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (slug_id, app_id, commit, json.dumps(dict(process_types)), env_dir, python_version, size,
             json.dumps(app_json.to_json()) if app_json is not None else None, now),
        )
    slug = get_slug(db, slug_id)
    assert slug is not None
    return slug


def get_slug(db: Database, slug_id: str) -> Slug | None:
    row = db.query_one("SELECT * FROM slugs WHERE id = ?", (slug_id,))
    return _slug(row) if row else None


def create_release(
    db: Database, app_id: str, *, slug_id: str | None, config: Mapping[str, str], description: str,
    user_id: str | None, status: str = "pending",
) -> Release:
    """Create the next release vN (N = previous + 1) atomically."""
    rid = str(uuid.uuid4())
    now = utcnow()
    with db.transaction() as c:
        row = c.execute("SELECT COALESCE(MAX(version), 0) FROM releases WHERE app_id = ?", (app_id,)).fetchone()
        version = int(row[0]) + 1
        c.execute(
            "INSERT INTO releases (id, app_id, version, slug_id, config, description, status, user_id, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (rid, app_id, version, slug_id, json.dumps(dict(config)), description, status, user_id, now, now),
        )
    rel = get_release(db, app_id, rid)
    assert rel is not None
    return rel


def set_release_status(db: Database, release_id: str, status: str, description: str | None = None) -> None:
    """Settle a release: its status, and (a release that did not go live) a description saying why."""
    with db.transaction() as c:
        if description is None:
            c.execute("UPDATE releases SET status = ?, updated_at = ? WHERE id = ?", (status, utcnow(), release_id))
        else:
            c.execute("UPDATE releases SET status = ?, description = ?, updated_at = ? WHERE id = ?",
                      (status, description, utcnow(), release_id))


def get_release(db: Database, app_id: str, id_or_version: str | int) -> Release | None:
    key = str(id_or_version)
    if key.lstrip("v").isdigit():
        row = db.query_one("SELECT * FROM releases WHERE app_id = ? AND version = ?", (app_id, int(key.lstrip("v"))))
    else:
        row = db.query_one("SELECT * FROM releases WHERE app_id = ? AND id = ?", (app_id, key))
    return _release(row) if row else None


def list_releases(db: Database, app_id: str) -> list[Release]:
    return [_release(r) for r in db.query("SELECT * FROM releases WHERE app_id = ? ORDER BY version", (app_id,))]


def current_release(db: Database, app_id: str) -> Release | None:
    """The newest succeeded release: the one the app runs."""
    row = db.query_one(
        "SELECT * FROM releases WHERE app_id = ? AND status = 'succeeded' ORDER BY version DESC LIMIT 1", (app_id,)
    )
    return _release(row) if row else None


def latest_slug_release(db: Database, app_id: str) -> Release | None:
    """The newest succeeded release that has a slug."""
    row = db.query_one(
        "SELECT * FROM releases WHERE app_id = ? AND status = 'succeeded' AND slug_id IS NOT NULL "
        "ORDER BY version DESC LIMIT 1",
        (app_id,),
    )
    return _release(row) if row else None
