"""The router-line parser and the request aggregator (pure)."""
from __future__ import annotations

from datetime import datetime, timezone

from hoist.dashboard.chart import bars, meter
from hoist.dashboard.metrics import Sample, app_summary, parse_router_line, percentile, summarize
from hoist.logs.line import LogLine, parse
from hoist.contracts.router_log import format_line

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=timezone.utc).timestamp()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds")


def router_line(t: float, status: int = 200, service: float | None = 0.012, code: str | None = None,
                path: str = "/") -> LogLine:
    """A line exactly as the router writes it and the server files it."""
    message = format_line("hello", method="GET", path=path, host="hello.localhost", request_id="r1",
                          fwd="127.0.0.1", dyno="web.1" if code is None else "", connect=0.001, service=service,
                          status=status, nbytes=10, code=code, desc="x" if code else None).split("\t", 1)[1]
    return LogLine(_iso(t), "heroku", "router", message.rstrip("\n"))


def test_parses_a_rendered_router_line() -> None:
    text = ('2026-01-02T11:59:00.000000+00:00 heroku[router]: at=info method=GET path="/a b" host=hello.localhost '
            'request_id=x fwd="1.2.3.4" dyno=web.1 connect=1ms service=12ms status=200 bytes=5 protocol=http')
    line = parse(text)
    assert line is not None
    sample = parse_router_line(line)
    assert sample == Sample(NOW - 60, 200, 12, "/a b", None)


def test_router_errors_have_a_code_and_no_service_time() -> None:
    sample = parse_router_line(router_line(NOW, status=503, service=None, code="H10"))
    assert sample is not None and sample.code == "H10" and sample.service_ms is None and sample.status == 503


def test_other_lines_and_garbage_are_ignored() -> None:
    assert parse_router_line(LogLine(_iso(NOW), "app", "web.1", "at=info status=200 service=1ms")) is None
    assert parse_router_line(LogLine(_iso(NOW), "heroku", "router", "Waking the app for a request")) is None
    assert parse_router_line(LogLine(_iso(NOW), "heroku", "router", "at=info status=abc")) is None
    assert parse_router_line(LogLine("not-a-time", "heroku", "router", "at=info status=200")) is None


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile(values, 100) == 100
    assert percentile([7], 95) == 7 and percentile([], 50) is None


def test_summary_counts_the_window_only() -> None:
    lines = [router_line(NOW - 3600)]  # too old
    lines += [router_line(NOW - 30, service=ms / 1000) for ms in range(1, 21)]  # 1..20 ms
    lines += [router_line(NOW - 90, status=404, service=0.005), router_line(NOW - 10, status=503, service=None,
                                                                           code="H12")]
    lines.append(LogLine(_iso(NOW - 5), "app", "web.1", "hello"))
    s = app_summary(lines, NOW, window_s=300)
    assert s.requests == 22
    assert s.statuses == {200: 20, 404: 1, 503: 1}
    assert s.errors == 1
    assert s.p50_ms == 10 and s.p95_ms == 19  # 21 timings: 1..20 plus 5
    assert s.per_minute == 4.4
    assert len(s.buckets) == 5 and sum(s.buckets) == 22
    assert s.buckets[-1] == 21 and s.buckets[-2] == 1  # the last minute, and 90 s ago


def test_empty_summary() -> None:
    s = summarize([], NOW, window_s=900)
    assert s.requests == 0 and s.p50_ms is None and s.buckets == [0] * 15 and s.statuses == {}


def test_bars_scale_to_the_tallest() -> None:
    out = bars([0, 5, 10], ["a", "b", "c"], width=300, height=100, gap=0)
    assert [b.height for b in out] == [0, 50, 100]
    assert [b.y for b in out] == [100, 50, 0]
    assert [b.x for b in out] == [0, 100, 200] and all(b.width == 100 for b in out)
    assert bars([], []) == [] and [b.height for b in bars([0, 0], ["a", "b"])] == [0, 0]


def test_meter_is_clipped_to_the_track() -> None:
    assert meter(128, 512, 500) == 125 and meter(2048, 512, 500) == 500 and meter(-1, 512) == 0 and meter(5, 0) == 0
