"""Connections to the server as its administrator, and SCRAM verifiers computed on the client."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg

from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.urls import parse_url, redact, with_database

CONNECT_TIMEOUT_S = 10


@contextlib.contextmanager
def connect(url: str, database: str | None = None, autocommit: bool = True) -> Iterator[psycopg.Connection]:
    """Open a connection to `url` (optionally another database on it); errors become PostgresError."""
    target = with_database(url, database) if database else url
    try:
        conn = psycopg.connect(target, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        info = parse_url(target)
        raise PostgresError(
            f"could not connect to {redact(target)} as {info.user!r}: {str(exc).strip()}; "
            "check that the server runs (hoist server) and the URL is right"
        ) from exc
    try:
        yield conn
    finally:
        conn.close()


def scram_verifier(conn: psycopg.Connection, user: str, password: str) -> str:
    """Hash `password` for `user` on the client, so the clear password never reaches server logs."""
    raw = conn.pgconn.encrypt_password(password.encode(), user.encode(), b"scram-sha-256")
    return raw.decode()


def role_exists(conn: psycopg.Connection, role: str) -> bool:
    """True if `role` exists on the server."""
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def database_exists(conn: psycopg.Connection, database: str) -> bool:
    """True if `database` exists on the server."""
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None


def terminate(conn: psycopg.Connection, *, role: str | None = None, database: str | None = None) -> int:
    """End every session of `role` and/or on `database` (not our own); return how many."""
    rows = conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND (%(role)s::text IS NULL OR usename = %(role)s) AND (%(db)s::text IS NULL OR datname = %(db)s)",
        {"role": role, "db": database},
    ).fetchall()
    return len(rows)
