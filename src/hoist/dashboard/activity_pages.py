"""The app's activity tab: its builds (status, duration) with each build's full log, a running
build's log streamed live (server-sent events, as the log pane's stream), and the activity feed
(deploys, config, add-ons, access, scaling: who, what, when), read as the API's
/apps/{app}/builds, /builds/{id}/output and /activity read them."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hoist.dashboard.auth import Refused
from hoist.dashboard.core import Dashboard
from hoist.dashboard.security import HEADERS, PREFIX
from hoist.dashboard.sessions import Session
from hoist.dashboard.views import duration
from hoist.platform.control import Platform
from hoist.state import activity as activity_t
from hoist.state import builds as builds_t
from hoist.state import connections as connections_t
from hoist.state import test_runs as test_runs_t
from hoist.state import users as users_t
from hoist.state.apps import App
from hoist.state.builds import Build
from hoist.state.connections import Connection
from hoist.state.test_runs import TestRun
from hoist.state.users import User

POLL = 0.25  # seconds between looks at a running build's log file
MAX_STREAM = 30 * 60  # seconds a live build stream stays open at most
SHOWN = 50  # builds and activity entries listed
RUNS_SHOWN = 10  # CI test runs listed


def _seconds(a: str, b: str) -> float | None:
    try:
        return (datetime.fromisoformat(b.replace("Z", "+00:00"))
                - datetime.fromisoformat(a.replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return None


def build_row(p: Platform, b: Build, running: bool) -> dict[str, Any]:
    """A build as the pages show it; `running` while its output is still being written (the release
    phase of a deploy comes after the build itself succeeded)."""
    u = users_t.get_user(p.db, b.user_id) if b.user_id else None
    running = running or b.status == "pending"
    return {"id": b.id, "status": "running" if running else b.status, "user": u.email if u else "",
            "commit": (b.source_version or "")[:8], "created_at": b.created_at,
            "duration": "" if running else duration(_seconds(b.created_at, b.updated_at))}


def run_row(r: TestRun) -> dict[str, Any]:
    """A CI test run as the Activity tab lists it (its output: `hoist ci:info N`)."""
    return {"number": r.number, "status": r.status, "commit": (r.commit or "")[:8], "source": r.source,
            "message": r.message, "created_at": r.created_at,
            "duration": duration(_seconds(r.created_at, r.finished_at)) if r.finished_at else ""}


def repo_row(c: Connection) -> dict[str, Any]:
    """The connected repository, with any credentials in its URL masked (the token and key are never shown)."""
    parts = urlsplit(c.url)
    url = c.url if not parts.password else c.url.replace(f"{parts.username}:{parts.password}@", "****@", 1)
    return {"url": url, "branch": c.branch, "wait_for_ci": c.wait_for_ci, "last_deployed": (c.last_deployed or "")[:8],
            "last_error": c.last_error, "checked_at": c.checked_at or ""}


def _build(p: Platform, app: App, build_id: str) -> Build:
    b = builds_t.get_build(p.db, app.id, build_id)
    if b is None:
        raise Refused(404, "Couldn't find that build; the Activity tab lists them.")
    return b


def _log(p: Platform, app: App, b: Build) -> Path:
    return p.paths.build_log(app.name, b.id)


def _event(data: str, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return head + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"


class ActivityPages:
    def __init__(self, d: Dashboard) -> None:
        self.d = d
        self.platform = d.platform

    def running(self, b: Build) -> bool:
        return self.d.build_running(b.id) if self.d.build_running else b.status == "pending"

    async def page(self, request: Request, session: Session, user: User) -> Response:
        p = self.platform
        app = self.d.app_of(request, user)
        recent = reversed(builds_t.list_builds(p.db, app.id)[-SHOWN:])
        builds = [build_row(p, b, self.running(b)) for b in recent]
        feed = list(reversed(activity_t.list_for_app(p.db, app.id)))[:SHOWN]
        runs = [run_row(r) for r in reversed(test_runs_t.list_runs(p.db, app.id)[-RUNS_SHOWN:])]
        conn = connections_t.get(p.db, app.id)
        return self.d.render_app("activity.html", request, session, user, app, "Activity", builds=builds,
                                 feed=feed, ci=test_runs_t.get_settings(p.db, app.id), runs=runs,
                                 repo=repo_row(conn) if conn else None)

    async def build_page(self, request: Request, session: Session, user: User) -> Response:
        p = self.platform
        app = self.d.app_of(request, user)
        b = _build(p, app, request.path_params["build"])
        path = _log(p, app, b)
        raw = path.read_bytes() if path.exists() else b""
        live = self.running(b)
        if live:  # whole lines only: the stream goes on from the next byte
            raw = raw[:raw.rfind(b"\n") + 1]
        return self.d.render_app("build.html", request, session, user, app, "Activity", build=build_row(p, b, live),
                                 log=raw.decode("utf-8", errors="replace"), live=live, offset=len(raw))

    async def stream(self, request: Request, session: Session, user: User) -> Response:
        """The build's log from byte `offset` on, as server-sent events, until the build ends; then an
        `end` event with its status."""
        p = self.platform
        app = self.d.app_of(request, user)
        b = _build(p, app, request.path_params["build"])
        start = request.query_params.get("offset", "0")
        offset = int(start) if start.isdigit() else 0
        path = _log(p, app, b)

        async def events() -> AsyncIterator[str]:
            nonlocal offset
            waited, partial = 0.0, b""
            while True:
                done = not self.running(b)  # asked before reading: what was written before is read below
                if path.exists():
                    with path.open("rb") as f:
                        f.seek(offset)
                        chunk = f.read(1 << 20)
                    offset += len(chunk)
                    *lines, partial = (partial + chunk).split(b"\n")
                    for line in lines:
                        yield _event(line.decode("utf-8", errors="replace"))
                if done or waited > MAX_STREAM or await request.is_disconnected():
                    if partial:
                        yield _event(partial.decode("utf-8", errors="replace"))
                    current = builds_t.get_build(p.db, app.id, b.id)
                    row = build_row(p, current, False) if current else {"status": "gone", "duration": ""}
                    yield _event(f"{row['status']} {row['duration']}".strip(), "end")
                    return
                await asyncio.sleep(POLL)
                waited += POLL

        headers = dict(HEADERS) | {"X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def routes(d: Dashboard) -> list[Route]:
    a = ActivityPages(d)
    app = PREFIX + "/apps/{app}"
    return [Route(app + "/activity", d.page(a.page), methods=["GET"]),
            Route(app + "/builds/{build}", d.page(a.build_page), methods=["GET"]),
            Route(app + "/builds/{build}/stream", d.page(a.stream, partial=True), methods=["GET"])]
