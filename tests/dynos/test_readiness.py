"""Readiness, pure: what answer makes a dyno ready, with and without app.json's health check path."""
from __future__ import annotations

from hoist.dynos.readiness import answered_ready, parse_status_line


def test_any_answer_is_ready_unless_a_health_check_path_asks_for_2xx_or_3xx() -> None:
    assert not answered_ready(None, None) and not answered_ready(None, "/health")
    assert answered_ready(500, None) and answered_ready(404, None)  # up, even if the app errs at /
    assert answered_ready(200, "/health") and answered_ready(302, "/health")
    assert not answered_ready(503, "/health") and not answered_ready(404, "/health")


def test_status_lines() -> None:
    assert parse_status_line(b"HTTP/1.1 503 Service Unavailable\r\n") == 503
    assert parse_status_line(b"SSH-2.0-OpenSSH\r\n") is None and parse_status_line(b"") is None
