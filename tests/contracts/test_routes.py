from __future__ import annotations

import pytest

from hoist.contracts.routes import AppRoute, PlatformRoute, normalize_host, parse as parse_table

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
