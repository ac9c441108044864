"""Dataclips: a named read-only query on an add-on's database, served at a secret URL.

Looked up by the SHA-256 of the secret (an index lookup reveals nothing about
near misses); the secret itself is kept so `hoist dataclips` can show the URL."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


class DataclipNameTaken(Exception):
    pass


@dataclass(frozen=True)
class Dataclip:
    id: str
    app_id: str
    addon_id: str
    name: str
    sql: str
    token: str
    created_at: str


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clip(r: sqlite3.Row) -> Dataclip:
    return Dataclip(r["id"], r["app_id"], r["addon_id"], r["name"], r["sql"], r["token"], r["created_at"])


def create_dataclip(db: Database, app_id: str, addon_id: str, name: str, sql: str) -> Dataclip:
    cid, now, token = str(uuid.uuid4()), utcnow(), secrets.token_urlsafe(24)
    try:
        with db.transaction() as c:
            c.execute("INSERT INTO dataclips (id, app_id, addon_id, name, sql, token, token_hash, created_at) "
                      "VALUES (?,?,?,?,?,?,?,?)", (cid, app_id, addon_id, name, sql, token, hash_secret(token), now))
    except sqlite3.IntegrityError:
        raise DataclipNameTaken(name) from None
    return Dataclip(cid, app_id, addon_id, name, sql, token, now)


def list_dataclips(db: Database, app_id: str) -> list[Dataclip]:
    return [_clip(r) for r in db.query("SELECT * FROM dataclips WHERE app_id = ? ORDER BY name", (app_id,))]


def get_dataclip(db: Database, app_id: str, name_or_id: str) -> Dataclip | None:
    row = db.query_one("SELECT * FROM dataclips WHERE app_id = ? AND (name = ? OR id = ?)",
                       (app_id, name_or_id, name_or_id))
    return _clip(row) if row else None


def find_by_secret(db: Database, token: str) -> Dataclip | None:
    """The dataclip whose secret is `token`, or None; compared in constant time after the hash lookup."""
    digest = hash_secret(token)
    row = db.query_one("SELECT * FROM dataclips WHERE token_hash = ?", (digest,))
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        return None
    return _clip(row)


def delete_dataclip(db: Database, clip_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM dataclips WHERE id = ?", (clip_id,))
