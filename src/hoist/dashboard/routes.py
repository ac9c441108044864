"""The dashboard's pages and actions. Every page resolves the app exactly as
the API does (`Platform.find_app`), and every action calls the same platform
operation as the API's endpoint for it."""
from __future__ import annotations

import json
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hoist.api import log_sessions
from hoist.api.context import Ctx
from hoist.api.errors import ApiError
from hoist.core.platform import PlatformError
from hoist.dashboard import render, views
from hoist.dashboard.auth import Gate, Refused, read_form, to_login
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session, SessionStore
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


class Dashboard:
    def __init__(self, ctx: Ctx, store: SessionStore | None = None) -> None:
        self.ctx = ctx
        self.platform = ctx.platform
        self.gate = Gate(ctx, store or SessionStore())

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
                message = await handler(request, session, user, app, form)
            except Refused as exc:
                return self._error(exc.status, exc.message, found)
            except PlatformError as exc:
                if exc.status == 404 and exc.resource == "app":
                    return self._error(404, NOT_FOUND, found)
                message = exc.message
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
        """JSON for the log pane: a log-session made by the API's own handler, as a same-origin path."""
        found = self.gate.current(request)
        if found is None:
            return JSONResponse({"id": "unauthorized", "message": "Log in again."}, 401)
        session, user = found
        try:
            self.gate.check_post(request, session, request.headers.get("x-csrf-token"))
            response = await log_sessions.create(request, self.ctx, user)
        except Refused as exc:
            return JSONResponse({"id": "forbidden", "message": exc.message}, exc.status)
        except ApiError as exc:
            return exc.response()
        except PlatformError as exc:
            return ApiError(exc.status, exc.id, exc.message, exc.resource).response()
        url = json.loads(bytes(response.body))["logplex_url"]
        return JSONResponse({"url": urlsplit(url).path})

    # ----- actions (the API's operations) -----

    async def restart(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        target = form.get("dyno") or None
        count = await self.platform.supervisor.restart(app.name, target)
        if target and count == 0:
            return f"No dyno or process type named {target}; the dyno list shows them."
        self.platform.logs.emit(app.name, "app", "api", f"Restart {target or 'all dynos'} by user {user.email}")
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


def routes(ctx: Ctx, store: SessionStore | None = None) -> list[Route]:
    d = Dashboard(ctx, store)
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

