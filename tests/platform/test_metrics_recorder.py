"""The metrics recorder over a real SQLite database: spans of a minute and ten, written and merged
across a restart of the recorder, restarts and memory peaks from dyno samples, old rows pruned."""
from __future__ import annotations

from pathlib import Path

from hoist.contracts.router_log import format_line, split_line
from hoist.platform.metrics import MetricsRecorder, parse_request, percentile
from hoist.state import apps as apps_t
from hoist.state import metrics as metrics_t
from hoist.state import users as users_t
from hoist.state.db import Database

T0 = 1_800_000_000.0  # a minute boundary and a ten-minute one


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _line(status: int, ms: float | None, code: str | None = None) -> str:
    raw = format_line("notes", method="GET", path="/", host="notes.localhost", request_id="r", fwd="127.0.0.1",
                      dyno="web.1", connect=0.001, service=None if ms is None else ms / 1000, status=status,
                      nbytes=10, code=code, desc="Request timeout" if code else None)
    parsed = split_line(raw.rstrip("\n"))
    assert parsed is not None
    return parsed[1]


def _db(tmp_path: Path) -> tuple[Database, str]:
    db = Database(tmp_path / "hoist.db")
    uid = users_t.create_user(db, "a@example.com", is_admin=True).id
    return db, apps_t.create_app(db, "notes", uid).id


def test_parse_request_and_percentile() -> None:
    assert parse_request(_line(200, 12)) == (200, 12.0, None)
    assert parse_request(_line(503, None, "H12")) == (503, None, "H12")
    assert parse_request("Starting process") is None
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile([], 99) is None


def test_spans_are_written_and_survive_a_new_recorder(tmp_path: Path) -> None:
    db, app_id = _db(tmp_path)
    clock = Clock()
    snap: dict[str, list[tuple[str, str, float | None]]] = {"notes": [("web.1", "a", 40.0)]}
    rec = MetricsRecorder(db, lambda: snap, clock)
    for ms in range(1, 101):
        rec.request("notes", _line(200, ms))
    rec.request("notes", _line(404, 5))
    rec.request("notes", _line(503, None, "H12"))
    rec.sample()
    snap["notes"] = [("web.1", "b", 55.5)]  # a new process: a restart, and a higher peak
    clock.now += 5
    rec.sample()
    rec.flush()
    [minute] = metrics_t.points(db, app_id, 60, 0)
    assert (minute.requests, minute.s2xx, minute.s4xx, minute.s5xx, minute.h_errors) == (102, 100, 1, 1, 1)
    assert (minute.p50, minute.p95, minute.p99, minute.timed) == (50, 95, 99, 101)
    assert minute.restarts == 1 and minute.memory == {"web.1": 55.5}
    assert metrics_t.points(db, app_id, 600, 0)[0].requests == 102

    # hoist restarts within the same minute: the new recorder adds to the rows it finds
    clock.now += 10
    rec2 = MetricsRecorder(db, lambda: {}, clock)
    rec2.request("notes", _line(200, 1000))
    rec2.flush()
    [minute] = metrics_t.points(db, app_id, 60, 0)
    assert minute.requests == 103 and minute.timed == 102 and minute.memory == {"web.1": 55.5}
    assert minute.p99 is not None and 99 < minute.p99 < 1000  # weighted by the two parts' requests


def test_a_span_over_between_writes_is_still_written(tmp_path: Path) -> None:
    db, app_id = _db(tmp_path)
    clock = Clock()
    rec = MetricsRecorder(db, lambda: {}, clock)
    rec.request("notes", _line(200, 3))
    clock.now += 61  # the next request opens a new minute before any write
    rec.request("notes", _line(200, 4))
    rec.flush()
    assert [p.requests for p in metrics_t.points(db, app_id, 60, 0)] == [1, 1]
    assert [p.requests for p in metrics_t.points(db, app_id, 600, 0)] == [2]


def test_old_rows_are_pruned(tmp_path: Path) -> None:
    db, app_id = _db(tmp_path)
    clock = Clock()
    rec = MetricsRecorder(db, lambda: {}, clock)
    rec.request("notes", _line(200, 3))
    rec.flush()
    clock.now += 2 * 86400  # minute rows go after a day, ten-minute rows stay a week
    rec.flush()
    assert metrics_t.points(db, app_id, 60, 0) == [] and len(metrics_t.points(db, app_id, 600, 0)) == 1
    clock.now += 7 * 86400
    rec.flush()
    assert metrics_t.points(db, app_id, 600, 0) == []
