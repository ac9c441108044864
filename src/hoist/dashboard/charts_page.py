"""The app's metrics tab: charts over 1 h, 24 h or 7 d drawn as inline SVG from hoist's own
time-series table (state/metrics.py, filled by platform/metrics.py), so they outlive the log
buffer and a restart of hoist: response time p50/p95/p99, throughput by status class, router
errors (H codes), memory per dyno against the quota, and dyno restarts."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hoist.dashboard import chart, render
from hoist.dashboard.core import Dashboard
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session
from hoist.platform.control import Platform
from hoist.state import metrics as metrics_t
from hoist.state.apps import App
from hoist.state.metrics import Point
from hoist.state.users import User

RANGES = {"1h": (60, 3600), "24h": (600, 86400), "7d": (600, 7 * 86400)}  # range -> (step, span) in seconds


def _range(request: Request) -> str:
    value = request.query_params.get("range", "")
    return value if value in RANGES else "1h"


def _when(t: float, span: int) -> str:
    fmt = "%H:%M" if span <= 86400 else "%b %d %H:%M"
    return datetime.fromtimestamp(t, timezone.utc).strftime(fmt) + " UTC"


def charts_view(p: Platform, app: App, rng: str, now: float | None = None) -> dict[str, Any]:
    step, span = RANGES[rng]
    now = time.time() if now is None else now
    last = int(now // step * step)
    grid = list(range(last - span + step, last + step, step))
    found = {pt.at: pt for pt in metrics_t.points(p.db, app.id, step, grid[0])}
    pts = [found.get(at) or Point(at) for at in grid]
    per_min = step / 60

    def counts(key: str) -> list[float | None]:
        return [round(getattr(pt, key) / per_min, 2) for pt in pts]

    def latency(key: str) -> list[float | None]:
        return [getattr(pt, key) if pt.timed else None for pt in pts]

    dynos = sorted({d for pt in pts for d in pt.memory}, key=lambda n: (n.split(".")[0], n))
    quota = float(p.settings.dyno_memory_mb)
    totals = {k: sum(getattr(pt, k) for pt in pts) for k in ("requests", "s2xx", "s3xx", "s4xx", "s5xx",
                                                                  "h_errors", "restarts")}
    timed = [pt for pt in pts if pt.timed]
    return {
        "range": rng, "ranges": list(RANGES), "step": step, "totals": totals,
        "start": _when(grid[0], span), "end": _when(grid[-1] + step, span), "quota": quota,
        "worst_p95": max((pt.p95 or 0 for pt in timed), default=None),
        "latency": chart.line_chart([("p50", latency("p50")), ("p95", latency("p95")), ("p99", latency("p99"))]),
        "throughput": chart.line_chart([("2xx", counts("s2xx")), ("3xx", counts("s3xx")),
                                        ("4xx", counts("s4xx")), ("5xx", counts("s5xx"))]),
        "errors": chart.line_chart([("H errors", [float(pt.h_errors) for pt in pts])]),
        "memory": chart.line_chart([(d, [pt.memory.get(d) for pt in pts]) for d in dynos], guide=quota),
        "restarts": chart.line_chart([("restarts", [float(pt.restarts) for pt in pts])]),
        "peak_memory": {d: max(pt.memory.get(d, 0.0) for pt in pts) for d in dynos},
    }


class ChartsPage:
    def __init__(self, d: Dashboard) -> None:
        self.d = d

    async def page(self, request: Request, session: Session, user: User) -> Response:
        app = self.d.app_of(request, user)
        return self.d.render_app("charts.html", request, session, user, app, "Metrics",
                                 m=charts_view(self.d.platform, app, _range(request)))

    async def part(self, request: Request, session: Session, user: User) -> Response:
        app = self.d.app_of(request, user)
        return render.html("_charts.html", app=app, m=charts_view(self.d.platform, app, _range(request)))


def routes(d: Dashboard) -> list[Route]:
    c = ChartsPage(d)
    app = PREFIX + "/apps/{app}"
    return [Route(app + "/charts", d.page(c.page), methods=["GET"]),
            Route(app + "/charts/part", d.page(c.part, partial=True), methods=["GET"])]
