"""Custom domains, SNI endpoints (installed certificates) and ACM flags per app."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


class DomainTaken(Exception):
    """The hostname is already served by an app (this one or another)."""


@dataclass(frozen=True)
class Domain:
    id: str
    app_id: str
    hostname: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class SniEndpoint:
    id: str
    app_id: str
    name: str
    source: str  # "manual" (certs:add) or "acm" (ACME)
    created_at: str
    updated_at: str


def _domain(r: sqlite3.Row) -> Domain:
    return Domain(r["id"], r["app_id"], r["hostname"], r["created_at"], r["updated_at"])


def add_domain(db: Database, app_id: str, hostname: str) -> Domain:
    did, now = str(uuid.uuid4()), utcnow()
    try:
        with db.transaction() as c:
            c.execute("INSERT INTO domains (id, app_id, hostname, created_at, updated_at) VALUES (?,?,?,?,?)",
                      (did, app_id, hostname, now, now))
    except sqlite3.IntegrityError:
        raise DomainTaken(hostname) from None
    return Domain(did, app_id, hostname, now, now)


def find_domain(db: Database, hostname_or_id: str) -> Domain | None:
    row = db.query_one("SELECT * FROM domains WHERE hostname = ? OR id = ?", (hostname_or_id, hostname_or_id))
    return _domain(row) if row else None


def list_domains(db: Database, app_id: str | None = None) -> list[Domain]:
    if app_id is None:
        rows = db.query("SELECT * FROM domains ORDER BY hostname")
    else:
        rows = db.query("SELECT * FROM domains WHERE app_id = ? ORDER BY hostname", (app_id,))
    return [_domain(r) for r in rows]


def hostnames_of(db: Database, app_name: str) -> list[str]:
    rows = db.query("SELECT d.hostname FROM domains d JOIN apps a ON a.id = d.app_id WHERE a.name = ? "
                    "ORDER BY d.hostname", (app_name,))
    return [r["hostname"] for r in rows]


def remove_domain(db: Database, domain_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM domains WHERE id = ?", (domain_id,))


def _endpoint(r: sqlite3.Row) -> SniEndpoint:
    return SniEndpoint(r["id"], r["app_id"], r["name"], r["source"], r["created_at"], r["updated_at"])


def put_endpoint(db: Database, app_id: str, name: str, source: str) -> SniEndpoint:
    """Create the endpoint, or touch it if the app already has one by this name (a replaced cert)."""
    now = utcnow()
    with db.transaction() as c:
        c.execute("INSERT INTO sni_endpoints (id, app_id, name, source, created_at, updated_at) VALUES (?,?,?,?,?,?) "
                  "ON CONFLICT (app_id, name) DO UPDATE SET updated_at = excluded.updated_at",
                  (str(uuid.uuid4()), app_id, name, source, now, now))
    row = db.query_one("SELECT * FROM sni_endpoints WHERE app_id = ? AND name = ?", (app_id, name))
    assert row is not None
    return _endpoint(row)


def list_endpoints(db: Database, app_id: str | None = None) -> list[SniEndpoint]:
    if app_id is None:
        rows = db.query("SELECT * FROM sni_endpoints ORDER BY name")
    else:
        rows = db.query("SELECT * FROM sni_endpoints WHERE app_id = ? ORDER BY name", (app_id,))
    return [_endpoint(r) for r in rows]


def remove_endpoint(db: Database, endpoint_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM sni_endpoints WHERE id = ?", (endpoint_id,))


def set_acm(db: Database, app_id: str, enabled: bool) -> None:
    with db.transaction() as c:
        c.execute("INSERT INTO acm (app_id, enabled, updated_at) VALUES (?,?,?) "
                  "ON CONFLICT (app_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
                  (app_id, int(enabled), utcnow()))


def acm_enabled(db: Database, app_id: str) -> bool:
    row = db.query_one("SELECT enabled FROM acm WHERE app_id = ?", (app_id,))
    return bool(row and row["enabled"])


def acm_apps(db: Database) -> list[str]:
    """Ids of apps with automated certificates on."""
    return [r["app_id"] for r in db.query("SELECT app_id FROM acm WHERE enabled = 1")]
