"""Metrics over time: one row per app and span (a minute or ten), as the dashboard charts them.

A row holds the span's request counts by status class, router errors (H codes), the service-time
percentiles in ms (over `timed` answered requests), dyno restarts, and each dyno's peak memory in MB."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from hoist.state.db import Database

KEEP = {60: 24 * 3600, 600: 7 * 24 * 3600}  # seconds each step's rows are kept


@dataclass
class Point:
    at: int
    requests: int = 0
    s2xx: int = 0
    s3xx: int = 0
    s4xx: int = 0
    s5xx: int = 0
    h_errors: int = 0
    timed: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    restarts: int = 0
    memory: dict[str, float] = field(default_factory=dict)


_COLUMNS = ("requests", "s2xx", "s3xx", "s4xx", "s5xx", "h_errors", "timed", "p50", "p95", "p99", "restarts")


def _point(r: sqlite3.Row) -> Point:
    try:
        memory = {str(k): float(v) for k, v in json.loads(r["memory"]).items()}
    except (ValueError, AttributeError, TypeError):
        memory = {}
    p = Point(r["at"], memory=memory)
    for c in _COLUMNS:
        setattr(p, c, r[c])
    return p


def get_point(db: Database, app_id: str, step: int, at: int) -> Point | None:
    rows = db.query("SELECT * FROM metric_points WHERE app_id = ? AND step = ? AND at = ?", (app_id, step, at))
    return _point(rows[0]) if rows else None


def put_point(db: Database, app_id: str, step: int, p: Point) -> None:
    """Write a span's row, replacing what was there (the caller merged it)."""
    with db.transaction() as c:
        c.execute(f"INSERT OR REPLACE INTO metric_points (app_id, step, at, {', '.join(_COLUMNS)}, memory) "
                  f"VALUES (?, ?, ?, {', '.join('?' for _ in _COLUMNS)}, ?)",
                  (app_id, step, p.at, *(getattr(p, c) for c in _COLUMNS), json.dumps(p.memory, sort_keys=True)))


def points(db: Database, app_id: str, step: int, since: int) -> list[Point]:
    rows = db.query("SELECT * FROM metric_points WHERE app_id = ? AND step = ? AND at >= ? ORDER BY at",
                    (app_id, step, since))
    return [_point(r) for r in rows]


def prune(db: Database, now: float) -> int:
    """Drop rows older than their step keeps; returns how many."""
    removed = 0
    with db.transaction() as c:
        for step, keep in KEEP.items():
            removed += c.execute("DELETE FROM metric_points WHERE step = ? AND at < ?",
                                 (step, int(now - keep))).rowcount
    return removed
