"""Dataclips against the real cluster: reads work, writes and escapes are refused by the database."""
from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest

from hoist.addons.postgres import dataclips
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.provision import Credentials
from hoist.addons.postgres.urls import with_database

MakeDb = Callable[..., Credentials]


@pytest.fixture
def db(make_db: MakeDb) -> Credentials:
    creds = make_db("clip")
    with psycopg.connect(creds.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, label text)")
        conn.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g")
    return creds


def count(creds: Credentials) -> int:
    with psycopg.connect(creds.url) as conn:
        row = conn.execute("SELECT count(*) FROM items").fetchone()
    assert row is not None
    return int(row[0])


def test_select(db: Credentials, admin_url: str) -> None:
    cols, rows = dataclips.run(admin_url, db.database, "SELECT id, label FROM items WHERE label LIKE 'item 1%' "
                                                        "ORDER BY id LIMIT 3")
    assert cols == ["id", "label"] and rows == [(1, "item 1"), (10, "item 10"), (11, "item 11")]
    cols, rows = dataclips.run(admin_url, db.database, "SELECT * FROM items", max_rows=7)
    assert len(rows) == 7


def test_tables_created_later_are_readable(db: Credentials, admin_url: str) -> None:
    dataclips.run(admin_url, db.database, "SELECT 1")  # creates the read-only role
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE later (x int)")
        conn.execute("INSERT INTO later VALUES (42)")
    assert dataclips.run(admin_url, db.database, "SELECT x FROM later")[1] == [(42,)]


@pytest.mark.parametrize("sql", [
    "DELETE FROM items",
    "UPDATE items SET label = 'x'",
    "CREATE TABLE evil (x int)",
    "DROP TABLE items",
    "TRUNCATE items",
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/hoist-pwned'",
    "SET ROLE postgres",
    "SELECT 1; DELETE FROM items",
    "WITH gone AS (DELETE FROM items RETURNING *) SELECT count(*) FROM gone",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
    "SELECT pg_read_file('/etc/passwd')",
])
def test_writes_are_refused_by_the_database(db: Credentials, admin_url: str, sql: str) -> None:
    with pytest.raises(PostgresError):
        dataclips.run(admin_url, db.database, sql, check=False)  # no pre-check: the database must refuse
    assert count(db) == 50


def test_pre_check_gives_a_clear_message(db: Credentials, admin_url: str) -> None:
    with pytest.raises(PostgresError, match="dataclips are read-only and DELETE is not a query"):
        dataclips.run(admin_url, db.database, "delete from items")
    assert count(db) == 50


def test_other_databases_are_out_of_reach(make_db: MakeDb, db: Credentials, admin_url: str) -> None:
    other = make_db("other")
    dataclips.ensure_readonly_role(admin_url, db.database)
    url = with_database(dataclips.readonly_url(admin_url, db.database), other.database)
    with pytest.raises(PostgresError, match="permission denied for database"):
        dataclips.run_as(url, "SELECT 1")


def test_timeout(db: Credentials, admin_url: str) -> None:
    start = time.monotonic()
    with pytest.raises(PostgresError, match="the query ran longer than 1 s"):
        dataclips.run(admin_url, db.database, "SELECT pg_sleep(10)", timeout_s=1.0)
    assert time.monotonic() - start < 3.0


def test_concurrent_first_runs(db: Credentials, admin_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: dataclips.run(admin_url, db.database, "SELECT count(*) FROM items"),
                                range(4)))
    assert all(r == (["count"], [(50,)]) for r in results)
