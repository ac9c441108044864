"""Dashboard sessions and request checks (pure; a fake clock moves time)."""
from __future__ import annotations

import pytest

from hoist.dashboard import sessions
from hoist.dashboard.security import cookie_args, safe_next, same_origin
from hoist.dashboard.sessions import SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_found_by_its_id_and_stored_hashed() -> None:
    store = SessionStore(Clock())
    sid, session = store.create("u1")
    assert store.get(sid) is session
    assert sid not in store._sessions  # only the SHA-256 of the id is kept
    assert store.get("wrong") is None and store.get(None) is None and store.get("") is None
    other, _ = store.create("u1")
    assert other != sid and store.get(other) is not session


def test_idle_and_absolute_expiry() -> None:
    clock = Clock()
    store = SessionStore(clock, idle=100, max_age=250)
    sid, _ = store.create("u1")
    clock.now += 90
    assert store.get(sid) is not None  # touched: idle time starts again
    clock.now += 90
    assert store.get(sid) is not None
    clock.now += 90  # 270 s after login: over the absolute limit though it was used
    assert store.get(sid) is None and len(store) == 0
    sid2, _ = store.create("u1")
    clock.now += 101
    assert store.get(sid2) is None


def test_expired_sessions_are_pruned_and_the_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    store = SessionStore(clock, idle=10, max_age=100)
    store.create("old")
    clock.now += 11
    store.create("new")
    assert len(store) == 1
    monkeypatch.setattr(sessions, "MAX_SESSIONS", 3)
    ids = [store.create("u")[0] for _ in range(5)]
    assert len(store) == 3 and store.get(ids[-1]) is not None and store.get(ids[0]) is None


def test_csrf_token_is_per_session_and_compared_exactly() -> None:
    store = SessionStore(Clock())
    _, a = store.create("u1")
    _, b = store.create("u1")
    assert a.csrf != b.csrf
    assert a.check_csrf(a.csrf)
    assert not a.check_csrf(b.csrf) and not a.check_csrf("") and not a.check_csrf(None)
    assert not a.check_csrf(a.csrf[:-1])


def test_logout_and_ending_a_users_sessions() -> None:
    store = SessionStore(Clock())
    sid, _ = store.create("u1")
    store.delete(sid)
    assert store.get(sid) is None
    s1, _ = store.create("u1")
    s2, _ = store.create("u2")
    assert store.end_user("u1") == 1 and store.get(s1) is None and store.get(s2) is not None


def test_same_origin() -> None:
    host = "localhost:5000"
    assert same_origin("http://localhost:5000", None, host)
    assert same_origin(None, "http://localhost:5000/dashboard/apps/x", host)
    assert same_origin(None, None, host)  # nothing said: the CSRF token decides
    assert not same_origin("http://evil.localhost:5000", None, host)
    assert not same_origin("null", None, host)
    assert not same_origin(None, "http://other:5000/", host)
    assert not same_origin("http://localhost:5000", None, None)


def test_safe_next_stays_inside_the_dashboard() -> None:
    assert safe_next("/dashboard/apps/hello") == "/dashboard/apps/hello"
    for bad in (None, "", "https://evil.example/", "//evil.example/dashboard/", "/apps", "/dashboard/\\evil",
                "/dashboard/ x", "/dashboardx"):
        assert safe_next(bad) == "/dashboard/"


def test_cookie_is_httponly_strict_and_scoped() -> None:
    args = cookie_args(secure=True, max_age=60)
    assert args["httponly"] is True and args["samesite"] == "strict" and args["secure"] is True
    assert args["path"] == "/dashboard/"
