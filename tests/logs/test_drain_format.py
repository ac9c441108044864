"""What drains send: Heroku's RFC 5424 lines, octet-counted; the logplex headers; the L10 line."""
from __future__ import annotations

from hoist.logs import drain_format
from hoist.logs.line import LogLine
from tests.logs.receivers import split_frames

TS = "2026-12-02T14:00:00.123456+00:00"


def test_app_router_and_platform_lines() -> None:
    app = drain_format.syslog_message(LogLine(TS, "app", "web.1", "hello"), "d.tok")
    assert app == f"<190>1 {TS} d.tok app web.1 - hello".encode()
    router = drain_format.syslog_message(LogLine(TS, "hoist", "router", "at=info"), "host")
    assert router.startswith(b"<158>1 ") and b" heroku router - at=info" in router
    api = drain_format.syslog_message(LogLine(TS, "hoist", "api", "Release v2"), "host")
    assert api.startswith(b"<45>1 ") and b" heroku api - " in api


def test_octet_counting_counts_bytes_not_characters() -> None:
    lines = [LogLine(TS, "app", "web.1", "héllo wörld"), LogLine(TS, "app", "web.1", "second\nline")]
    data = drain_format.frames(lines, "host")
    frames, rest = split_frames(data)
    assert rest == b"" and len(frames) == 2
    assert frames[0].decode().endswith("héllo wörld") and frames[1].decode().endswith("second line")


def test_logplex_headers_and_l10() -> None:
    h = drain_format.logplex_headers(3, "fid", "d.tok")
    assert h["Logplex-Msg-Count"] == "3" and h["Logplex-Frame-Id"] == "fid" and h["Logplex-Drain-Token"] == "d.tok"
    assert h["Content-Type"] == "application/logplex-1"
    assert drain_format.overflow_message(40, TS) == f"Error L10 (output buffer overflow): 40 messages dropped since {TS}."
