"""Pure helpers: URLs, names, schedule, renderers, the SQL pre-check."""
from __future__ import annotations

import datetime as dt
import decimal
import json

import pytest

from hoist.addons.postgres import naming, render, schedule, sqlcheck, urls
from hoist.addons.postgres.cluster import parse_pidfile, server_conf
from hoist.addons.postgres.errors import PostgresError


def test_url_round_trip_escapes_every_part() -> None:
    url = urls.build_url("us er", "p@ss:/w", "127.0.0.1", 5433, "db")
    assert url == "postgres://us%20er:p%40ss%3A%2Fw@127.0.0.1:5433/db"
    info = urls.parse_url(url)
    assert (info.user, info.password, info.host, info.port, info.database) == ("us er", "p@ss:/w", "127.0.0.1", 5433, "db")
    assert urls.to_url(info) == url


def test_url_helpers() -> None:
    url = "postgresql://u:secret@db.example:6000/one?sslmode=require"
    assert urls.with_database(url, "two") == "postgres://u:secret@db.example:6000/two?sslmode=require"
    bare, pw = urls.without_password(url)
    assert pw == "secret" and "secret" not in bare and bare.startswith("postgres://u@db.example:6000/one")
    assert urls.redact(url) == "postgresql://u:***@db.example:6000/one?sslmode=require"
    assert urls.with_login(url, "ro", "x", "d") == "postgres://ro:x@db.example:6000/d?sslmode=require"


@pytest.mark.parametrize("bad", ["mysql://u:p@h/db", "not a url", "postgres://u:p@h:99999/db"])
def test_parse_url_rejects(bad: str) -> None:
    with pytest.raises(PostgresError, match="postgres://|port"):
        urls.parse_url(bad)


def test_ident_from_addon() -> None:
    assert naming.ident_from_addon("postgresql-shaped-1234") == "postgresql_shaped_1234"
    for bad in ["Bad", "1abc", "a;drop", "a" * 64, "", "x y", "postgres", "pg_thing", "template1", "app-readonly"]:
        with pytest.raises(PostgresError):
            naming.ident_from_addon(bad)


def test_readonly_role_name_fits_63_bytes() -> None:
    assert naming.readonly_role_name("notes") == "notes_readonly"
    long_a, long_b = "a" * 60 + "x", "a" * 60 + "y"
    ra, rb = naming.readonly_role_name(long_a), naming.readonly_role_name(long_b)
    assert len(ra) <= 63 and len(rb) <= 63 and ra != rb and ra.endswith("_readonly")


def test_attachment_var_picks_first_free_color() -> None:
    assert naming.attachment_var([]) == "HEROKU_POSTGRESQL_AMBER_URL"
    assert naming.attachment_var(["HEROKU_POSTGRESQL_AMBER_URL", "DATABASE_URL"]) == "HEROKU_POSTGRESQL_AQUA_URL"
    every = [f"HEROKU_POSTGRESQL_{c}_URL" for c in naming.COLORS]
    assert naming.attachment_var(every) == "HEROKU_POSTGRESQL_AMBER_2_URL"


def test_next_run() -> None:
    now = dt.datetime(2026, 1, 31, 1, 30)
    assert schedule.next_run(now, "02:00") == dt.datetime(2026, 1, 31, 2, 0)
    assert schedule.next_run(now, "01:30") == dt.datetime(2026, 2, 1, 1, 30)
    assert schedule.next_run(now, "00:15") == dt.datetime(2026, 2, 1, 0, 15)
    tz = dt.timezone(dt.timedelta(hours=2))
    assert schedule.next_run(dt.datetime(2026, 12, 31, 23, 59, tzinfo=tz), "23:59").tzinfo == tz
    for bad in ["24:00", "2:00", "noon", "12:60"]:
        with pytest.raises(PostgresError, match="HH:MM"):
            schedule.next_run(now, bad)


def test_prune_keeps_newest() -> None:
    assert schedule.prune(["b1", "b2", "b3", "b4"], keep=2) == ["b1", "b2"]
    assert schedule.prune(["b1"], keep=5) == []
    assert schedule.prune(["b1", "b2"], keep=0) == ["b1", "b2"]
    with pytest.raises(PostgresError):
        schedule.prune([], keep=-1)


COLUMNS = ["id", "name", "note"]
ROWS = [(1, 'a,"b"', None), (2, "<script>alert(1)</script>", decimal.Decimal("1.50")),
        (3, "line\nbreak", dt.date(2026, 1, 2))]


def test_to_csv_quotes_and_nulls() -> None:
    assert render.to_csv(COLUMNS, ROWS) == (
        'id,name,note\r\n1,"a,""b""",\r\n2,<script>alert(1)</script>,1.50\r\n3,"line\nbreak",2026-01-02\r\n')


def test_to_json_shape() -> None:
    data = json.loads(render.to_json(COLUMNS, ROWS))
    assert data["fields"] == COLUMNS
    assert data["values"][0] == [1, 'a,"b"', None]
    assert data["values"][1][2] == "1.50" and data["values"][2][2] == "2026-01-02"


def test_to_html_table_escapes() -> None:
    out = render.to_html_table(["<b>"], [("<script>alert('x')</script>&",), (None,)])
    assert "<script>" not in out and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;" in out
    assert "<th>&lt;b&gt;</th>" in out and '<td class="null"></td>' in out


def test_render_values() -> None:
    assert render.text(b"\x00\xff") == "\\x00ff"
    assert render.text({"a": [1, None]}) == '{"a": [1, null]}'
    assert render.text(True) == "t" and render.text(None) == ""


@pytest.mark.parametrize("sql", ["select 1", "  -- c\n WITH x AS (select 1) select * from x;", "(select 1)",
                                 "/* hi */ values (1)", "explain select 1", "TABLE t"])
def test_precheck_allows_queries(sql: str) -> None:
    assert sqlcheck.precheck(sql)


@pytest.mark.parametrize("sql", ["delete from t", "CREATE TABLE x()", "copy t to program 'id'", "set role x",
                                 "/* select */ drop table t", "", ";", "begin"])
def test_precheck_refuses_with_clear_message(sql: str) -> None:
    with pytest.raises(PostgresError, match="read-only|empty"):
        sqlcheck.precheck(sql)


def test_parse_pidfile_and_conf() -> None:
    text = "123\n/data\n1712346200\n5433\n\n127.0.0.1\n  8826964     65536\nready   \n"
    info = parse_pidfile(text)
    assert info is not None and (info.pid, info.port, info.shmid, info.status) == (123, 5433, 65536, "ready")
    assert parse_pidfile("") is None
    conf = server_conf(5433)
    assert "listen_addresses = '127.0.0.1'" in conf and "port = 5433" in conf
