"""Request metrics from router log lines (pure): `heroku[router]: at=info ...
service=12ms status=200` lines are parsed into samples, then aggregated over a window."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from hoist.logs.line import LogLine
from hoist.contracts.router_log import parse_message


@dataclass(frozen=True)
class Sample:
    at: float  # unix seconds
    status: int
    service_ms: int | None  # None when no dyno answered (at=error H10, H14...)
    path: str
    code: str | None  # Heroku error code, e.g. H12


@dataclass
class Summary:
    window_s: int
    requests: int = 0
    per_minute: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    p50_ms: int | None = None
    p95_ms: int | None = None
    errors: int = 0  # 5xx answers and router errors
    buckets: list[int] = field(default_factory=list)  # requests per bucket, oldest first
    bucket_s: int = 60


def _ms(value: str) -> int | None:
    if not value.endswith("ms"):
        return None
    digits = value[:-2]
    return int(digits) if digits.isdigit() else None


def _unix(timestamp: str) -> float | None:
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def parse_router_line(line: LogLine) -> Sample | None:
    """A sample from one router line; None for any other line or a malformed one."""
    if line.dyno != "router" or not line.message.startswith("at="):
        return None
    kv = parse_message(line.message)
    status = kv.get("status", "")
    at = _unix(line.timestamp)
    if not status.isdigit() or at is None:
        return None
    code = kv.get("code") if kv.get("at") == "error" else None
    return Sample(at, int(status), _ms(kv.get("service", "")), kv.get("path", ""), code)


def percentile(sorted_values: list[int], q: float) -> int | None:
    """Nearest-rank percentile (q in 0..100) of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(samples: Iterable[Sample], now: float, window_s: int = 900, bucket_s: int = 60) -> Summary:
    """Rate, status counts and p50/p95 service time of the samples in the last window_s seconds."""
    start = now - window_s
    n_buckets = max(1, math.ceil(window_s / bucket_s))
    out = Summary(window_s=window_s, buckets=[0] * n_buckets, bucket_s=bucket_s)
    times: list[int] = []
    for s in samples:
        if not start < s.at <= now + 1:  # a second of slack for clocks read a moment apart
            continue
        out.requests += 1
        out.statuses[s.status] = out.statuses.get(s.status, 0) + 1
        if s.status >= 500 or s.code:
            out.errors += 1
        if s.service_ms is not None:
            times.append(s.service_ms)
        index = min(n_buckets - 1, int((s.at - start) // bucket_s))
        out.buckets[index] += 1
    times.sort()
    out.p50_ms, out.p95_ms = percentile(times, 50), percentile(times, 95)
    out.per_minute = round(out.requests / (window_s / 60), 2)
    out.statuses = dict(sorted(out.statuses.items()))
    return out


def app_summary(lines: Iterable[LogLine], now: float, window_s: int = 900) -> Summary:
    """Parse an app's recent log lines and summarize the router ones."""
    return summarize((s for s in map(parse_router_line, lines) if s is not None), now, window_s)
