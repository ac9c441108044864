"""Provisioning against the real cluster: isolation, limits, rotation, destruction, info."""
from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from hoist.addons.postgres import backups, provision
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.provision import Credentials

MakeDb = Callable[..., Credentials]


def test_create_gives_working_credentials(make_db: MakeDb, cluster) -> None:
    creds = make_db("notes")
    assert creds.url == f"postgres://{creds.user}:{creds.password}@127.0.0.1:{cluster.port}/{creds.database}"
    assert len(creds.password) == 32 and creds.password not in repr(creds)
    with psycopg.connect(creds.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
        conn.execute("INSERT INTO notes (body) VALUES ('hello')")
        assert conn.execute("SELECT current_user, current_database()").fetchone() == (creds.user, creds.database)
        assert conn.execute("SELECT body FROM notes").fetchone() == ("hello",)


def test_apps_cannot_reach_each_other(make_db: MakeDb) -> None:
    a, b = make_db("a"), make_db("b")
    url = f"postgres://{a.user}:{a.password}@{a.host}:{a.port}/{b.database}"
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(url)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(f"postgres://{a.user}:{a.password}@{a.host}:{a.port}/postgres")


def test_role_has_no_server_powers(make_db: MakeDb) -> None:
    creds = make_db()
    with psycopg.connect(creds.url, autocommit=True) as conn:
        for stmt in ("CREATE DATABASE sneaky", "CREATE ROLE sneaky", "ALTER ROLE CURRENT_USER SUPERUSER",
                     "COPY (SELECT 1) TO PROGRAM 'id'", "SET ROLE postgres"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(stmt)


def test_rotate_ends_sessions_and_old_password(make_db: MakeDb, admin_url: str) -> None:
    old = make_db()
    session = psycopg.connect(old.url, autocommit=True)
    new = provision.rotate(admin_url, old.database, old.user)
    assert new.password != old.password and new.database == old.database
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    session.close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(old.url)
    with psycopg.connect(new.url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_destroy_removes_database_and_role(admin_url: str) -> None:
    creds = provision.create(admin_url, "doomed-app")
    session = psycopg.connect(creds.url, autocommit=True)
    provision.destroy(admin_url, creds.database, creds.user)
    session.close()
    with psycopg.connect(admin_url) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'doomed_app'").fetchone() is None
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname LIKE 'doomed_app%'").fetchone() is None
    provision.destroy(admin_url, creds.database, creds.user)  # idempotent


def test_create_refuses_duplicates_and_bad_names(make_db: MakeDb, admin_url: str) -> None:
    creds = make_db("dup")
    with pytest.raises(PostgresError, match="already exists"):
        provision.create(admin_url, creds.database.replace("_", "-"))
    for bad in ("Robert'); DROP TABLE students;--", "pg-admin", "postgres"):
        with pytest.raises(PostgresError):
            provision.create(admin_url, bad)


def test_info(make_db: MakeDb, admin_url: str) -> None:
    creds = make_db()
    with psycopg.connect(creds.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 500) g")
        conn.execute("CREATE TABLE u (x int)")
        conn.execute("ANALYZE")
        got = provision.info(admin_url, creds.database)
    assert got["server_version"].startswith("18")
    assert got["table_count"] == 2 and got["rows_estimate"] == 500
    assert got["size_bytes"] > 1_000_000 and got["connection_count"] >= 0
    with pytest.raises(PostgresError, match="does not exist"):
        provision.info(admin_url, "no_such_db")


def test_concurrent_creates_of_one_name_leave_the_winner_intact(admin_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def attempt(_: int) -> Credentials | PostgresError:
        try:
            return provision.create(admin_url, "racy-app")
        except PostgresError as exc:
            return exc

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(attempt, range(4)))
    winners = [r for r in results if isinstance(r, Credentials)]
    try:
        assert len(winners) == 1, results
        assert all("already exists" in str(r) for r in results if isinstance(r, PostgresError))
        with psycopg.connect(winners[0].url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("racy_app",)
    finally:
        provision.destroy(admin_url, "racy_app", "racy_app")


def test_reset_empties_the_database_and_keeps_the_role_working(make_db: MakeDb, admin_url: str) -> None:
    creds = make_db("reset")
    with psycopg.connect(creds.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE entries (id serial PRIMARY KEY, body text)")
        conn.execute("CREATE SCHEMA extra")
        conn.execute("INSERT INTO entries (body) VALUES ('x')")
    session = psycopg.connect(creds.url, autocommit=True)
    provision.reset(admin_url, creds.database, creds.user)
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    session.close()
    assert backups.is_empty(creds.url)
    with psycopg.connect(creds.url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'extra'").fetchone() == (0,)
        conn.execute("CREATE TABLE again (id int)")  # the app's role still owns public
        assert conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'"
                            ).fetchone() == (creds.user,)
