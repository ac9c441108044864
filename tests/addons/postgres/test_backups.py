"""Backups and copies against the real cluster."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from hoist.addons.postgres import backups
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.provision import Credentials
from hoist.addons.postgres.urls import with_database, with_login

MakeDb = Callable[..., Credentials]

SCHEMA = [
    "CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL UNIQUE)",
    "CREATE TABLE books (id serial PRIMARY KEY, author_id int REFERENCES authors, title text, price numeric(6,2),"
    " tags jsonb, published date)",
    "CREATE INDEX books_title ON books (title)",
    "CREATE VIEW cheap AS SELECT title FROM books WHERE price < 10",
    "INSERT INTO authors (name) VALUES ('Le Guin'), ('Pratchett'), ('O''Brien')",
    "INSERT INTO books (author_id, title, price, tags, published) SELECT 1 + g % 3, 'Book ' || g, g * 1.25,"
    " jsonb_build_object('n', g), date '2020-01-01' + g FROM generate_series(1, 200) g",
]


def fill(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for stmt in SCHEMA:
            conn.execute(stmt)


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(url) as conn:
        return {
            "authors": conn.execute("SELECT * FROM authors ORDER BY id").fetchall(),
            "books": conn.execute("SELECT * FROM books ORDER BY id").fetchall(),
            "cheap": conn.execute("SELECT * FROM cheap ORDER BY title").fetchall(),
            "seq": conn.execute("SELECT last_value, is_called FROM books_id_seq").fetchall(),
        }


def test_capture_restore_round_trip(make_db: MakeDb, pg_tmp: Path) -> None:
    src, dst = make_db("src"), make_db("dst")
    fill(src.url)
    before = snapshot(src.url)
    size = backups.capture(src.url, pg_tmp / "b001.dump")
    assert size == (pg_tmp / "b001.dump").stat().st_size > 0
    assert [p.name for p in pg_tmp.iterdir()] == ["b001.dump"]  # no temp files left behind
    assert backups.is_empty(dst.url)
    backups.restore(pg_tmp / "b001.dump", dst.url)
    assert not backups.is_empty(dst.url)
    assert snapshot(dst.url) == before
    with psycopg.connect(dst.url) as conn:  # restored objects belong to the target's own role
        owners = {r[0] for r in conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    assert owners == {dst.user}


def test_restore_replaces_existing_data(make_db: MakeDb, pg_tmp: Path) -> None:
    db = make_db()
    fill(db.url)
    before = snapshot(db.url)
    backups.capture(db.url, pg_tmp / "b.dump")
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("DELETE FROM books WHERE id > 10")
        conn.execute("UPDATE authors SET name = 'changed' WHERE id = 1")
    backups.restore(pg_tmp / "b.dump", db.url)
    assert snapshot(db.url) == before


def test_failed_capture_keeps_earlier_backup(make_db: MakeDb, pg_tmp: Path) -> None:
    db = make_db()
    fill(db.url)
    dest = pg_tmp / "latest.dump"
    backups.capture(db.url, dest)
    good = dest.read_bytes()
    bad_url = db.url.replace(db.password, "wrong-password")
    with pytest.raises(PostgresError, match="backup of .* failed") as err:
        backups.capture(bad_url, dest)
    assert "wrong-password" not in str(err.value) and db.password not in str(err.value)
    assert dest.read_bytes() == good
    assert [p.name for p in pg_tmp.iterdir()] == ["latest.dump"]


def test_restore_missing_or_broken_backup(make_db: MakeDb, pg_tmp: Path) -> None:
    db = make_db()
    with pytest.raises(PostgresError, match="does not exist"):
        backups.restore(pg_tmp / "nope.dump", db.url)
    (pg_tmp / "junk.dump").write_bytes(b"not a dump")
    with pytest.raises(PostgresError, match="restore of junk.dump"):
        backups.restore(pg_tmp / "junk.dump", db.url)


def test_copy_refuses_non_empty_target_and_copies_into_empty(make_db: MakeDb) -> None:
    src, full, empty = make_db("src"), make_db("full"), make_db("empty")
    fill(src.url)
    with psycopg.connect(full.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (x int)")
    with pytest.raises(PostgresError, match="not empty"):
        backups.copy(src.url, full.url)
    with psycopg.connect(full.url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (1,)
    backups.copy(src.url, empty.url)
    assert snapshot(empty.url) == snapshot(src.url)


def test_ensure_database_creates_a_missing_target_once(admin_url: str) -> None:
    url = with_database(admin_url, "pulled_here")
    try:
        assert backups.ensure_database(url) is True
        assert backups.ensure_database(url) is False
        assert backups.is_empty(url)
        backups.drop_created_database(url)
        assert backups.ensure_database(url) is True
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS pulled_here")
    with pytest.raises(PostgresError, match="could not connect"):
        backups.ensure_database(with_login(admin_url, "nobody", "wrong", "pulled_here"))


def test_ensure_database_without_the_right_to_create_says_so(make_db: MakeDb) -> None:
    app_role = make_db("nocreate")
    with pytest.raises(PostgresError, match=r"create it first \(createdb not_there\)|could not connect"):
        backups.ensure_database(with_database(app_role.url, "not_there"))


def test_copy_refuses_an_older_target_server_and_says_which_version_to_use() -> None:
    backups.check_versions(18, 18, "postgres://u@h:5/d")
    backups.check_versions(15, 18, "postgres://u@h:5/d")
    with pytest.raises(PostgresError, match=r"^the target server h:5 runs PostgreSQL 15, older than the source's 18, "
                                            r".*copy into a PostgreSQL 18 \(or newer\) server: `hoist pg:pull "
                                            r"DATABASE_URL mylocaldb` pulls into one hoist runs for you \(hoist "
                                            r"pg:local\), and `hoist pg:pull DATABASE_URL mylocaldb.dump` writes a file "
                                            r"for pg_restore$"):
        backups.check_versions(18, 15, "postgres://u:pw@h:5/d")


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_during_a_backup_leaves_earlier_backups_intact(make_db: MakeDb, pg_tmp: Path) -> None:
    src = make_db("full")
    fill(src.url)
    with psycopg.connect(src.url, autocommit=True) as conn:
        # About 3 MB of incompressible text, more than the 1 MB disk below holds.
        conn.execute("CREATE TABLE blobs AS SELECT md5(random()::text) || md5(random()::text) AS b "
                     "FROM generate_series(1, 50000)")
    disk = pg_tmp / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    try:
        small = make_db("small")
        fill(small.url)
        first = backups.capture(small.url, disk / "b001.dump")
        before = (disk / "b001.dump").read_bytes()
        with pytest.raises(PostgresError):
            backups.capture(src.url, disk / "b002.dump")
        assert sorted(p.name for p in disk.iterdir()) == ["b001.dump"]  # no partial file, no b002
        assert (disk / "b001.dump").read_bytes() == before and len(before) == first
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_check_target_refuses_an_older_server_before_anything_is_created(
        admin_url: str, make_db: MakeDb, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_db("newer_source")
    target = with_database(admin_url, "not_made_yet")
    backups.check_target(src.url, target)  # same version, missing database: fine
    real = backups.server_major
    monkeypatch.setattr(backups, "server_major", lambda url: 99 if url == src.url else real(url))
    with pytest.raises(PostgresError, match=r"^the target server 127\.0\.0\.1:\d+ runs PostgreSQL \d+, older than "
                                            r"the source's 99"):
        backups.check_target(src.url, target)
    with psycopg.connect(admin_url) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'not_made_yet'").fetchone() is None
    fill(src.url)
    with pytest.raises(PostgresError, match=r"^the target database 'newer_source\w*' is not empty; pg:pull and "):
        backups.check_target(admin_url, src.url)
