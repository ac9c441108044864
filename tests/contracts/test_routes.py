from __future__ import annotations

import json
from pathlib import Path

import pytest

from hoist.contracts.routes import (AppRoute, PlatformRoute, RouteTable, TlsCert, build, dump, load,
                                    normalize_host, parse, read, write)
from hoist.contracts.routes import parse as parse_table

ROUTES = {
    "platform": {"hosts": ["localhost", "127.0.0.1"], "upstream": "127.0.0.1:41234"},
    "request_timeout": 12,
    "apps": {"notes": {"hosts": ["notes.localhost", "Notes.Example.COM."], "maintenance": False,
                       "state": "up", "backends": [{"dyno": "web.1", "addr": "127.0.0.1:5101"}]},
             "gone": {"hosts": ["gone.localhost"], "state": "crashed", "backends": []}},
}


@pytest.mark.parametrize("raw,want", [
    ("notes.localhost", "notes.localhost"), ("NOTES.LocalHost", "notes.localhost"),
    ("notes.localhost:5000", "notes.localhost"), ("notes.localhost.", "notes.localhost"),
    ("Notes.Localhost.:80", "notes.localhost"), (b"127.0.0.1:5000", "127.0.0.1"),
    ("[::1]:5000", "[::1]"), (" x.y ", "x.y"),
])
def test_normalize_host(raw: str | bytes, want: str) -> None:
    assert normalize_host(raw) == want


def test_lookup_apps_and_platform() -> None:
    t = parse_table(ROUTES)
    assert t.request_timeout == 12
    notes = t.lookup(b"NOTES.localhost:5000")
    assert isinstance(notes, AppRoute) and notes.name == "notes"
    assert notes.backends[0].host == "127.0.0.1" and notes.backends[0].port == 5101
    assert t.lookup("notes.example.com") is notes
    platform = t.lookup("127.0.0.1:5000")
    assert isinstance(platform, PlatformRoute) and platform.upstream is not None
    assert platform.upstream.port == 41234
    assert t.lookup("other.localhost") is None and t.lookup(None) is None
    gone = t.lookup("gone.localhost")
    assert isinstance(gone, AppRoute) and gone.state == "crashed" and gone.backends == ()


def test_defaults_and_empty() -> None:
    t = parse_table({})
    assert t.lookup("localhost") is None and t.request_timeout == 30
    t = parse_table({"apps": {"a": {"hosts": ["a.localhost"]}}})
    app = t.lookup("a.localhost")
    assert isinstance(app, AppRoute) and app.state == "none" and not app.maintenance


@pytest.mark.parametrize("bad", [
    [], {"apps": []}, {"apps": {"a": {"hosts": "a.localhost"}}},
    {"apps": {"a": {"hosts": [], "backends": [{"addr": "nohost"}]}}},
    {"apps": {"a": {"hosts": [], "state": "exploded"}}}, {"request_timeout": 0},
])
def test_malformed_tables_raise(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_table(bad)


def _built() -> RouteTable:
    return build(platform_hosts=["localhost", "127.0.0.1", "Hoist.Example.COM"],
                 platform_upstream="127.0.0.1:41234", request_timeout=30.0,
                 backends={"notes": ("up", [("web.1", "127.0.0.1", 5101), ("web.2", "10.1.0.12", 5102)]),
                           "gone": ("crashed", [])},  # web.2: a swarm dyno, at its task's node address
                 app_hosts=lambda app: [f"{app}.localhost"], maintenance=["gone"],
                 app_names=["notes", "gone", "idle"],
                 tls=[TlsCert("/c/cert.pem", "/c/key.pem", ("notes.example.com",))])


def test_build_writes_the_fields_older_routers_read() -> None:
    assert dump(_built()) == {
        "platform": {"hosts": ["127.0.0.1", "hoist.example.com", "localhost"], "upstream": "127.0.0.1:41234"},
        "request_timeout": 30.0,
        "apps": {
            "gone": {"hosts": ["gone.localhost"], "maintenance": True, "state": "crashed", "backends": []},
            "idle": {"hosts": ["idle.localhost"], "maintenance": False, "state": "none", "backends": []},
            "notes": {"hosts": ["notes.localhost"], "maintenance": False, "state": "up",
                      "backends": [{"dyno": "web.1", "addr": "127.0.0.1:5101"},
                                   {"dyno": "web.2", "addr": "10.1.0.12:5102"}]},
        },
        "tls": {"certs": [{"cert": "/c/cert.pem", "key": "/c/key.pem", "hosts": ["notes.example.com"]}]},
    }


def test_what_is_written_reads_back_the_same(tmp_path: Path) -> None:
    table = _built()
    write(tmp_path / "router" / "routes.json", table)
    back = read(tmp_path / "router" / "routes.json")
    assert back == table and back.by_host == table.by_host
    assert parse(json.loads(json.dumps(dump(back)))) == table


def test_load_keeps_the_last_good_table(tmp_path: Path) -> None:
    path = tmp_path / "routes.json"
    said: list[str] = []
    empty = RouteTable()
    assert load(path, empty, said.append) is empty and "does not exist yet" in said[-1]
    write(path, _built())
    good = load(path, empty, said.append)
    assert good == _built()
    path.write_text("{not json")
    assert load(path, good, said.append) is good and "keeping the last good table" in said[-1]
    path.unlink()
    assert load(path, good, said.append) is good and "keeping the last good routing table" in said[-1]
