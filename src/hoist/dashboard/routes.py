"""The dashboard's routes under /dashboard, one module per page; server.py serves them beside the API's."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hoist.accounts.login import Logins
from hoist.dashboard import activity_pages, admin_pages, apps_pages, charts_page, data_pages, overview, render, settings_pages
from hoist.dashboard.core import BuildRunning, Dashboard, OnDestroy
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import SessionStore
from hoist.logs.sessions import LogSessions
from hoist.platform.control import Platform


async def _to_index(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def routes(platform: Platform, logins: Logins, log_sessions: LogSessions,
           store: SessionStore | None = None, on_destroy: OnDestroy | None = None,
           build_running: BuildRunning | None = None) -> list[Route]:
    d = Dashboard(platform, logins, log_sessions, store, on_destroy, build_running)
    out: list[Route] = [
        Route(PREFIX, _to_index, methods=["GET"]),
        Route(PREFIX + "/login", d.gate.login_page, methods=["GET"]),
        Route(PREFIX + "/login", d.gate.login, methods=["POST"]),
        Route(PREFIX + "/logout", d.gate.logout, methods=["POST"]),
        Route(PREFIX + "/static/{name}", render.static, methods=["GET"]),
    ]
    out += overview.routes(d) + apps_pages.routes(d) + settings_pages.routes(d) + charts_page.routes(d)
    out += data_pages.routes(d) + activity_pages.routes(d) + admin_pages.routes(d)
    return out
