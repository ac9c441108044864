"""Run dataclip queries as a per-database read-only role, in a read-only transaction with a time limit."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

import psycopg
from psycopg import sql

from hoist.addons.postgres.admin import connect, role_exists, scram_verifier
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.naming import check_ident, readonly_role_name
from hoist.addons.postgres.render import to_csv, to_html_table, to_json
from hoist.addons.postgres.sqlcheck import precheck
from hoist.addons.postgres.urls import parse_url, with_login

__all__ = ["run", "run_as", "ensure_readonly_role", "readonly_url", "to_csv", "to_json", "to_html_table"]

Result = tuple[list[str], list[tuple[Any, ...]]]


def readonly_password(admin_url: str, database: str) -> str:
    """Derive the read-only role's password from the admin password, so nothing extra is stored."""
    key = parse_url(admin_url).password.encode()
    return hmac.new(key, b"hoist-dataclips:" + database.encode(), hashlib.sha256).hexdigest()[:32]


def readonly_url(admin_url: str, database: str) -> str:
    """The URL the read-only role of `database` logs in with."""
    return with_login(admin_url, readonly_role_name(database), readonly_password(admin_url, database), database)


def ensure_readonly_role(admin_url: str, database: str) -> str:
    """Create or repair ``<db>_readonly`` (SELECT on all tables, now and later); return its URL."""
    check_ident(database)
    role = readonly_role_name(database)
    ident, db = sql.Identifier(role), sql.Identifier(database)
    try:
        with connect(admin_url) as conn:
            # Concurrent first dataclips would race on CREATE ROLE and GRANT; one at a time per role.
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", ("hoist-readonly:" + role,))
            owner_row = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                                     (database,)).fetchone()
            if owner_row is None:
                raise PostgresError(f"database {database!r} does not exist; list add-ons with `hoist addons`")
            verifier = sql.Literal(scram_verifier(conn, role, readonly_password(admin_url, database)))
            verb = "ALTER" if role_exists(conn, role) else "CREATE"
            conn.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                                 "CONNECTION LIMIT 5 PASSWORD {}").format(ident, verifier))
            conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, ident))
            _grant_reads(admin_url, database, ident, sql.Identifier(owner_row[0]))
    except psycopg.Error as exc:
        raise PostgresError(f"could not set up the read-only role for {database!r}: {exc}; "
                            "check the server log and try again") from exc
    return readonly_url(admin_url, database)


def _grant_reads(admin_url: str, database: str, ident: sql.Identifier, owner: sql.Identifier) -> None:
    """SELECT on every table of every user schema, and on tables and schemas the owner makes later."""
    with connect(admin_url, database=database) as conn:
        schemas = [r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND nspname NOT LIKE 'pg_toast%%' AND nspname NOT LIKE 'pg_temp%%'").fetchall()]
        for schema in schemas:
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), ident))
            conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                sql.Identifier(schema), ident))
        # Default privileges attach to the creating role: the app's owner role creates the tables.
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} GRANT SELECT ON TABLES TO {}").format(
            owner, ident))
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} GRANT USAGE ON SCHEMAS TO {}").format(
            owner, ident))


def run(admin_url: str, database: str, query: str, timeout_s: float = 5.0, max_rows: int = 10_000,
        *, check: bool = True) -> Result:
    """Run `query` against `database` as its read-only role (created on first use); return (columns, rows)."""
    body = precheck(query) if check else query
    try:
        conn = psycopg.connect(readonly_url(admin_url, database), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError:
        # First use, or the admin password changed: (re)create the role, then log in again.
        with connect(ensure_readonly_role(admin_url, database)) as conn:
            return _execute(conn, body, timeout_s, max_rows)
    with conn:
        return _execute(conn, body, timeout_s, max_rows)


def run_as(url: str, query: str, timeout_s: float = 5.0, max_rows: int = 10_000, *, check: bool = True) -> Result:
    """Run one read-only query over `url` (a read-only role's URL) with a statement timeout."""
    body = precheck(query) if check else query
    with connect(url) as conn:
        return _execute(conn, body, timeout_s, max_rows)


def _execute(conn: psycopg.Connection, body: str, timeout_s: float, max_rows: int) -> Result:
    """Run `body` inside BEGIN READ ONLY with SET LOCAL statement_timeout, then roll back."""
    try:
        conn.execute("BEGIN READ ONLY")
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(int(timeout_s * 1000))))
        # prepare=True goes through Parse (extended protocol), which accepts exactly one statement;
        # with no parameters, '%' in the user's SQL is left alone.
        with conn.cursor() as cur:
            cur.execute(body.encode(), prepare=True)
            columns = [c.name for c in cur.description or []]
            rows = cur.fetchmany(max_rows) if cur.description else []
        conn.execute("ROLLBACK")
    except psycopg.errors.QueryCanceled as exc:
        raise PostgresError(
            f"the query ran longer than {timeout_s:g} s and was stopped; add a WHERE or LIMIT "
            "clause, or an index, and run it again") from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise PostgresError(f"permission denied: {exc.diag.message_primary}; dataclips can only read "
                            "the tables of this database") from exc
    except psycopg.errors.ReadOnlySqlTransaction as exc:
        raise PostgresError(f"dataclips are read-only: {exc.diag.message_primary}; write a SELECT") from exc
    except psycopg.Error as exc:
        raise PostgresError(f"the query failed: {str(exc).strip()}; fix it and run it again") from exc
    return columns, [tuple(r) for r in rows]
