"""Create, destroy, rotate and describe one database + one login role per add-on."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from hoist.addons.postgres.admin import connect, database_exists, role_exists, scram_verifier, terminate
from hoist.procs import random_password
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.naming import check_ident, ident_from_addon, readonly_role_name
from hoist.addons.postgres.urls import build_url, parse_url


@dataclass(frozen=True)
class Credentials:
    """How an app reaches its database."""

    database: str
    user: str
    password: str
    host: str
    port: int

    @property
    def url(self) -> str:
        """``postgres://user:pw@host:port/db`` (the value of DATABASE_URL)."""
        return build_url(self.user, self.password, self.host, self.port, self.database)

    def __repr__(self) -> str:  # keep passwords out of logs and tracebacks
        return f"Credentials(database={self.database!r}, user={self.user!r}, host={self.host!r}, port={self.port})"


def create(admin_url: str, addon_name: str) -> Credentials:
    """Create role + database for `addon_name`; the role can log in and own its database, nothing more."""
    name = ident_from_addon(addon_name)
    password = random_password()
    server = parse_url(admin_url)
    with connect(admin_url) as conn:
        if role_exists(conn, name) or database_exists(conn, name):
            raise PostgresError(
                f"a database or role named {name!r} already exists; choose another add-on name "
                "or destroy the old add-on first"
            )
        role, db = sql.Identifier(name), sql.Identifier(name)
        made_role = made_db = False
        try:
            conn.execute(sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                "PASSWORD {}").format(role, sql.Literal(scram_verifier(conn, name, password))))
            made_role = True
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db, role))
            made_db = True
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
        except psycopg.Error as exc:
            # Undo only what this call made: a concurrent create of the same name keeps its own.
            with contextlib.suppress(psycopg.Error):
                if made_db:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(db))
                if made_role:
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
            if isinstance(exc, (psycopg.errors.DuplicateObject, psycopg.errors.DuplicateDatabase)):
                raise PostgresError(f"a database or role named {name!r} already exists; choose another "
                                    "add-on name or destroy the old add-on first") from exc
            raise PostgresError(f"could not create database {name!r}: {exc}; check the server log") from exc
    with connect(admin_url, database=name) as conn:
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    return Credentials(database=name, user=name, password=password, host=server.host, port=server.port)


def destroy(admin_url: str, database: str, user: str) -> None:
    """End all sessions, then drop the database, its dataclip role and `user`; missing ones are skipped."""
    check_ident(database), check_ident(user)
    with connect(admin_url) as conn:
        try:
            _drop(conn, database, user)
        except psycopg.Error as exc:
            raise PostgresError(f"could not drop {database!r}/{user!r}: {exc}; "
                                "the role may own objects elsewhere; drop them and try again") from exc


def rotate(admin_url: str, database: str, user: str) -> Credentials:
    """Give `user` a new password and end its open sessions, so the old password stops working at once."""
    check_ident(database), check_ident(user)
    password = random_password()
    server = parse_url(admin_url)
    with connect(admin_url) as conn:
        if not role_exists(conn, user):
            raise PostgresError(f"role {user!r} does not exist; was the add-on destroyed?")
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(user), sql.Literal(scram_verifier(conn, user, password))))
        terminate(conn, role=user)
    return Credentials(database=database, user=user, password=password, host=server.host, port=server.port)


def reset(admin_url: str, database: str, user: str) -> None:
    """Empty the database (pg:reset): end its sessions, drop every user schema, give back an empty `public`."""
    check_ident(database), check_ident(user)
    with connect(admin_url) as conn:
        if not database_exists(conn, database):
            raise PostgresError(f"database {database!r} does not exist; list add-ons with `hoist addons`")
        terminate(conn, database=database)
    with connect(admin_url, database=database) as conn:
        schemas = [r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND nspname NOT LIKE 'pg_toast%%' AND nspname NOT LIKE 'pg_temp%%'").fetchall()]
        for schema in schemas:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA public AUTHORIZATION {}").format(sql.Identifier(user)))
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")


def info(admin_url: str, database: str) -> dict[str, Any]:
    """Return what pg:info shows: version, size, tables, connections, rows (an estimate)."""
    check_ident(database)
    with connect(admin_url) as conn:
        if not database_exists(conn, database):
            raise PostgresError(f"database {database!r} does not exist; list add-ons with `hoist addons`")
        head = conn.execute(
            "SELECT current_setting('server_version'), pg_database_size(%s), "
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = %s)", (database, database)).fetchone()
        assert head is not None
        version, size, connections = head
    with connect(admin_url, database=database) as conn:
        counts = conn.execute(
            "SELECT count(*), coalesce(sum(greatest(c.reltuples, s.n_live_tup, 0)), 0)::bigint "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%%'").fetchone()
        assert counts is not None
        tables, rows = counts
    return {"database": database, "server_version": version, "size_bytes": int(size),
            "table_count": int(tables), "connection_count": int(connections), "rows_estimate": int(rows)}


def _drop(conn: psycopg.Connection, database: str, user: str) -> None:
    readonly = readonly_role_name(database)
    terminate(conn, database=database)
    terminate(conn, role=user)
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
    for role in (readonly, user):
        with contextlib.suppress(psycopg.errors.UndefinedObject):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
