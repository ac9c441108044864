"""The dashboard's pages and actions. Every page resolves the app exactly as
the API does (`Platform.find_app`), and every action calls the same platform
operation as the API's endpoint for it."""
from __future__ import annotations

import sqlite3
from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hoist.accounts.login import Logins
from hoist.asgi.body import BodyError, read_json
from hoist.dashboard import render, views
from hoist.dashboard.auth import Gate, Refused, read_form, to_login
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session, SessionStore
from hoist.logs.sessions import InvalidLogSession, LogSessions
from hoist.platform.control import Platform
from hoist.platform.errors import PlatformError
from hoist.state import disk
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.users import User

WINDOWS = (5, 15, 60)  # minutes of router lines the metrics can cover
NOT_FOUND = "Couldn't find that app. It does not exist, or you do not have access to it."

Page = Callable[[Request, Session, User], Awaitable[Response]]
Action = Callable[[Request, Session, User, App, dict[str, str]], Awaitable[str]]


def _window(request: Request) -> int:
    value = request.query_params.get("window", "")
    return int(value) if value.isdigit() and int(value) in WINDOWS else 15


def _json_error(status: int, id: str, message: str, resource: str | None = None) -> JSONResponse:
    """The API's error shape, for the log pane's fetch."""
    body = {"id": id, "message": message} | ({"resource": resource} if resource else {})
    return JSONResponse(body, status)


class Dashboard:
    def __init__(self, platform: Platform, logins: Logins, log_sessions: LogSessions,
                 store: SessionStore | None = None) -> None:
        self.platform = platform
        self.log_sessions = log_sessions
        self.gate = Gate(platform.db, logins, store or SessionStore())

    # ----- wrappers -----

    def page(self, handler: Page, partial: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            found = self.gate.current(request)
            if found is None:
                return Response("logged out", 401) if partial else to_login(request)
            try:
                return await handler(request, *found)
            except PlatformError as exc:
                return self._error(exc.status, exc.message if exc.status != 404 else NOT_FOUND, found)
        return run

    def action(self, handler: Action) -> Callable[[Request], Awaitable[Response]]:
        """A form POST on one app: gate, origin + CSRF check, the operation, then back to the app page."""
        async def run(request: Request) -> Response:
            found = self.gate.current(request)
            if found is None:
                return to_login(request)
            session, user = found
            try:
                form = await read_form(request)
                self.gate.check_post(request, session, form.get("csrf"))
                app = self.platform.find_app(user, request.path_params["app"])
                if disk.low(self.platform.paths.home):  # as the API: no write starts on a full disk
                    message = disk.full_message(self.platform.paths.home)
                else:
                    message = await handler(request, session, user, app, form)
            except Refused as exc:
                return self._error(exc.status, exc.message, found)
            except PlatformError as exc:
                if exc.status == 404 and exc.resource == "app":
                    return self._error(404, NOT_FOUND, found)
                message = exc.message
            except (OSError, sqlite3.OperationalError) as exc:
                if not disk.is_full(exc):
                    raise
                message = disk.full_message(self.platform.paths.home)
            session.flash.append(message)
            return RedirectResponse(f"{PREFIX}/apps/{request.path_params['app']}", status_code=303)
        return run

    def _error(self, status: int, message: str, found: tuple[Session, User] | None) -> Response:
        session, user = found if found else (None, None)
        return render.html("error.html", status, title="Not found" if status == 404 else "Refused",
                           message=message, user=user, csrf=session.csrf if session else "")

    # ----- pages -----

    async def apps_list(self, request: Request, session: Session, user: User) -> Response:
        return render.html("apps.html", title="Apps", user=user, csrf=session.csrf, flash=_take(session),
                           apps=views.apps_rows(self.platform, user))

    async def app_page(self, request: Request, session: Session, user: User) -> Response:
        app = self.platform.find_app(user, request.path_params["app"])
        data = views.app_page(self.platform, app, _window(request))
        return render.html("app.html", title=app.name, user=user, csrf=session.csrf, flash=_take(session),
                           windows=WINDOWS, **data)

    async def metrics_part(self, request: Request, session: Session, user: User) -> Response:
        app = self.platform.find_app(user, request.path_params["app"])
        return render.html("_metrics.html", app=app, windows=WINDOWS,
                           metrics=views.metrics_view(self.platform, app, _window(request)))

    async def dynos_part(self, request: Request, session: Session, user: User) -> Response:
        app = self.platform.find_app(user, request.path_params["app"])
        return render.html("_dynos.html", app=app, csrf=session.csrf, dynos=views.dynos(self.platform, app))

    async def log_session(self, request: Request) -> Response:
        """JSON for the log pane: a log session (as the API's POST /apps/{app}/log-sessions makes), as a
        same-origin path to stream."""
        found = self.gate.current(request)
        if found is None:
            return JSONResponse({"id": "unauthorized", "message": "Log in again."}, 401)
        session, user = found
        try:
            self.gate.check_post(request, session, request.headers.get("x-csrf-token"))
            app = self.platform.find_app(user, request.path_params["app"])
            opened = self.log_sessions.open(app.name, app.id, user.id, await read_json(request))
        except Refused as exc:
            return JSONResponse({"id": "forbidden", "message": exc.message}, exc.status)
        except BodyError as exc:
            return _json_error(exc.status, exc.id, exc.message)
        except InvalidLogSession as exc:
            return _json_error(422, "invalid_params", str(exc), "log-session")
        except PlatformError as exc:
            return _json_error(exc.status, exc.id, exc.message, exc.resource)
        return JSONResponse({"url": f"/log-streams/{opened.id}"})

    # ----- actions (the API's operations) -----

    async def restart(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        target = form.get("dyno") or None
        if await self.platform.restart(app, user, target) == 0 and target:
            return f"No dyno or process type named {target}; the dyno list shows them."
        return f"Restarting {target or 'all dynos'}."

    async def scale(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        ptype, qty = form.get("type", ""), form.get("quantity", "").strip()
        if not qty.isdigit():
            return f"Quantity {qty!r} is not a whole number; enter 0 to 100."
        await self.platform.scale(app, {ptype: int(qty)}, user)
        return f"Scaled {ptype} to {int(qty)}."

    async def rollback(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        target = releases_t.get_release(self.platform.db, app.id, form.get("version", ""))
        if target is None:
            return f"There is no release {form.get('version')!r}; pick one from the list."
        rel, result = await self.platform.rollback(app, target, user)
        return _released(rel.version, f"Rolled back to v{target.version}", result.ok, result.message)

    async def config_set(self, request: Request, session: Session, user: User, app: App,
                         form: dict[str, str]) -> str:
        key = form.get("key", "").strip()
        if not key:
            return "Enter a config var name, such as GREETING."
        _, rel, result = await self.platform.set_config(app, {key: form.get("value", "")}, user)
        return _released(rel.version, f"Set {key}", result.ok, result.message)

    async def config_unset(self, request: Request, session: Session, user: User, app: App,
                           form: dict[str, str]) -> str:
        key = form.get("key", "").strip()
        _, rel, result = await self.platform.set_config(app, {key: None}, user)
        return _released(rel.version, f"Removed {key}", result.ok, result.message)


    async def job_add(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        job = self.platform.addons.schedules.add(app, user, form.get("command", ""), form.get("every", ""),
                                                 form.get("at") or None)
        return f"Added scheduler job {job.id}: `{job.command}`."

    async def job_remove(self, request: Request, session: Session, user: User, app: App,
                         form: dict[str, str]) -> str:
        job = self.platform.addons.schedules.remove(app, user, form.get("job", ""))
        return f"Removed scheduler job {job.id}."


def _released(version: int, what: str, ok: bool, message: str) -> str:
    return f"{what}: release v{version}." if ok else f"{what}: release v{version} failed ({message})."


def _take(session: Session) -> list[str]:
    messages, session.flash[:] = list(session.flash), []
    return messages


async def _to_index(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def routes(platform: Platform, logins: Logins, log_sessions: LogSessions,
           store: SessionStore | None = None) -> list[Route]:
    """The dashboard's routes under /dashboard; server.py serves them beside the API's."""
    d = Dashboard(platform, logins, log_sessions, store)
    app = PREFIX + "/apps/{app}"
    actions: list[tuple[str, Action]] = [("/restart", d.restart), ("/scale", d.scale), ("/rollback", d.rollback),
                                         ("/config", d.config_set), ("/config/unset", d.config_unset),
                                         ("/scheduler", d.job_add), ("/scheduler/remove", d.job_remove)]
    out: list[Route] = [
        Route(PREFIX, _to_index, methods=["GET"]),
        Route(PREFIX + "/", d.page(d.apps_list), methods=["GET"]),
        Route(PREFIX + "/login", d.gate.login_page, methods=["GET"]),
        Route(PREFIX + "/login", d.gate.login, methods=["POST"]),
        Route(PREFIX + "/logout", d.gate.logout, methods=["POST"]),
        Route(PREFIX + "/static/{name}", render.static, methods=["GET"]),
        Route(app, d.page(d.app_page), methods=["GET"]),
        Route(app + "/metrics", d.page(d.metrics_part, partial=True), methods=["GET"]),
        Route(app + "/dynos", d.page(d.dynos_part, partial=True), methods=["GET"]),
        Route(app + "/log-session", d.log_session, methods=["POST"]),
    ]
    out += [Route(app + path, d.action(handler), methods=["POST"]) for path, handler in actions]
    return out

