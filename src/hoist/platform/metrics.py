"""Metrics over time, recorded for the dashboard's charts: every router line of an app (status
class, H code, service time) and, every few seconds, each dyno's memory and whether it restarted,
go into the open spans of a minute and of ten minutes; the spans are written to SQLite
(state/metrics.py) every few seconds and when hoist stops, so the history survives a restart.

Rows of a span hoist already wrote before it restarted are merged: counts add up, peaks take the
larger, and the percentiles are the two parts' averages weighted by their answered requests (a
span split by a restart is approximate; every other span is exact)."""
from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hoist.contracts.router_log import parse_message
from hoist.state import apps as apps_t
from hoist.state import metrics as metrics_t
from hoist.state.db import Database
from hoist.state.metrics import Point

STEPS = (60, 600)
FLUSH_EVERY = 5.0  # seconds between writes (and memory samples)
MAX_TIMES = 20_000  # service times kept per span (a uniform sample beyond that)

# app name -> [(dyno name, dyno id, memory MB or None)], read from the supervisor
Snapshot = Callable[[], dict[str, list[tuple[str, str, float | None]]]]


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of an ascending list (pure)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Span:
    """One open span of one app: what hoist saw since the span began (or since hoist started)."""
    at: int
    counts: dict[str, int] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    timed: int = 0
    restarts: int = 0
    memory: dict[str, float] = field(default_factory=dict)
    base: Point | None = None  # the span's row as a previous hoist left it
    loaded: bool = False

    def add_time(self, ms: float) -> None:
        self.timed += 1
        if len(self.times) < MAX_TIMES:
            self.times.append(ms)
        else:  # reservoir sampling: every time has the same chance to be kept
            j = random.randrange(self.timed)
            if j < MAX_TIMES:
                self.times[j] = ms

    def point(self) -> Point:
        """This span merged with its base row."""
        times = sorted(self.times)
        p = Point(self.at, timed=self.timed, restarts=self.restarts, memory=dict(self.memory),
                  p50=percentile(times, 50), p95=percentile(times, 95), p99=percentile(times, 99))
        for key in ("requests", "s2xx", "s3xx", "s4xx", "s5xx", "h_errors"):
            setattr(p, key, self.counts.get(key, 0))
        b = self.base
        if b is None:
            return p
        for key in ("requests", "s2xx", "s3xx", "s4xx", "s5xx", "h_errors", "restarts"):
            setattr(p, key, getattr(p, key) + getattr(b, key))
        for q in ("p50", "p95", "p99"):
            mine, theirs = getattr(p, q), getattr(b, q)
            if mine is None or theirs is None:
                setattr(p, q, theirs if mine is None else mine)
            else:
                setattr(p, q, round((mine * self.timed + theirs * b.timed) / (self.timed + b.timed), 1))
        p.timed += b.timed
        for dyno, mb in b.memory.items():
            p.memory[dyno] = max(mb, p.memory.get(dyno, 0.0))
        return p


def parse_request(message: str) -> tuple[int, float | None, str | None] | None:
    """(status, service ms or None, H code or None) of a router message; None if it is not one (pure)."""
    if not message.startswith("at="):
        return None
    kv = parse_message(message)
    status = kv.get("status", "")
    if not status.isdigit():
        return None
    service = kv.get("service", "")
    ms = float(service[:-2]) if service.endswith("ms") and service[:-2].isdigit() else None
    code = kv.get("code") if kv.get("at") == "error" else None
    return int(status), ms, code


class MetricsRecorder:
    def __init__(self, db: Database, snapshot: Snapshot, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.snapshot = snapshot
        self.clock = clock
        self._open: dict[tuple[str, int], Span] = {}  # (app name, step) -> the open span
        self._closed: list[tuple[str, int, Span]] = []  # spans over since the last write
        self._seen: dict[tuple[str, str], str] = {}  # (app, dyno name) -> the id of its running process
        self._lock = threading.Lock()

    def _spans(self, app: str, now: float) -> list[Span]:
        out = []
        for step in STEPS:
            at = int(now // step * step)
            span = self._open.get((app, step))
            if span is None or span.at != at:
                if span is not None:
                    self._closed.append((app, step, span))  # written by the next flush
                span = Span(at)
                self._open[(app, step)] = span
            out.append(span)
        return out

    def request(self, app: str, message: str) -> None:
        """A router line of `app` (Platform.router_request)."""
        parsed = parse_request(message)
        if parsed is None:
            return
        status, ms, code = parsed
        with self._lock:
            for span in self._spans(app, self.clock()):
                c = span.counts
                c["requests"] = c.get("requests", 0) + 1
                if 200 <= status < 600:
                    key = f"s{min(5, status // 100)}xx"
                    c[key] = c.get(key, 0) + 1
                if code:
                    c["h_errors"] = c.get("h_errors", 0) + 1
                if ms is not None:
                    span.add_time(ms)

    def sample(self) -> None:
        """Each running dyno's memory (its peak per span) and restarts (a dyno name with a new process)."""
        now = self.clock()
        snap = self.snapshot()
        with self._lock:
            for app, dynos in snap.items():
                if not dynos:
                    continue  # nothing to sample: an app without requests gets no rows either
                spans = self._spans(app, now)
                for name, dyno_id, mb in dynos:
                    before = self._seen.get((app, name))
                    self._seen[(app, name)] = dyno_id
                    if before is not None and dyno_id and before != dyno_id:
                        for span in spans:
                            span.restarts += 1
                    if mb is not None:
                        for span in spans:
                            span.memory[name] = round(max(mb, span.memory.get(name, 0.0)), 1)
            for key in [k for k in self._seen if k[0] not in snap]:
                del self._seen[key]

    def flush(self) -> None:
        """Write every open span and those over since the last write; drop rows too old to keep."""
        now = self.clock()
        with self._lock:
            for (app, step), span in list(self._open.items()):
                if span.at + step <= now:
                    del self._open[(app, step)]
                    self._closed.append((app, step, span))
            todo = [(app, step, span) for (app, step), span in self._open.items()] + self._closed
            self._closed = []
        ids: dict[str, str | None] = {}
        for app, step, span in todo:
            if app not in ids:
                found = apps_t.get_app(self.db, app)
                ids[app] = found.id if found else None
            app_id = ids[app]
            if app_id is None:
                continue
            if not span.loaded:
                span.base, span.loaded = metrics_t.get_point(self.db, app_id, step, span.at), True
            with self._lock:
                point = span.point()
            metrics_t.put_point(self.db, app_id, step, point)
        metrics_t.prune(self.db, now)

    async def run(self, every: float = FLUSH_EVERY) -> None:
        """Sample and write every few seconds until cancelled; a last write when it is."""
        try:
            while True:
                await asyncio.sleep(every)
                self.sample()
                await asyncio.to_thread(self.flush)
        finally:
            self.flush()
