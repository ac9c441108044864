"""The app's overview tab (dynos, formation, live metrics and logs, releases, config, add-ons,
scheduler) and the apps list; every action calls the same platform operation as the API's endpoint."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.asgi.body import BodyError, read_json
from hoist.dashboard import render, views
from hoist.dashboard.auth import Refused
from hoist.dashboard.core import Action, Dashboard, take_flash
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session
from hoist.logs.sessions import InvalidLogSession
from hoist.platform.errors import PlatformError
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.users import User

WINDOWS = (5, 15, 60)  # minutes of router lines the metrics can cover


def _window(request: Request) -> int:
    value = request.query_params.get("window", "")
    return int(value) if value.isdigit() and int(value) in WINDOWS else 15


def _json_error(status: int, id: str, message: str, resource: str | None = None) -> JSONResponse:
    """The API's error shape, for the log pane's fetch."""
    body = {"id": id, "message": message} | ({"resource": resource} if resource else {})
    return JSONResponse(body, status)


class Overview:
    def __init__(self, d: Dashboard) -> None:
        self.d = d
        self.platform = d.platform
        self.log_sessions = d.log_sessions
        self.gate = d.gate

    async def apps_list(self, request: Request, session: Session, user: User) -> Response:
        return render.html("apps.html", title="Apps", user=user, csrf=session.csrf, flash=take_flash(session),
                           apps=views.apps_rows(self.platform, user))

    async def app_page(self, request: Request, session: Session, user: User) -> Response:
        app = self.platform.find_app(user, request.path_params["app"])
        data = views.app_page(self.platform, app, _window(request))
        return render.html("app.html", title=app.name, user=user, csrf=session.csrf, flash=take_flash(session),
                           windows=WINDOWS, tab="Overview", **data)

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


def routes(d: Dashboard) -> list[Route]:
    o = Overview(d)
    app = PREFIX + "/apps/{app}"
    actions: list[tuple[str, Action]] = [("/restart", o.restart), ("/scale", o.scale), ("/rollback", o.rollback),
                                         ("/config", o.config_set), ("/config/unset", o.config_unset),
                                         ("/scheduler", o.job_add), ("/scheduler/remove", o.job_remove)]
    out = [
        Route(PREFIX + "/", d.page(o.apps_list), methods=["GET"]),
        Route(app, d.page(o.app_page), methods=["GET"]),
        Route(app + "/metrics", d.page(o.metrics_part, partial=True), methods=["GET"]),
        Route(app + "/dynos", d.page(o.dynos_part, partial=True), methods=["GET"]),
        Route(app + "/log-session", o.log_session, methods=["POST"]),
    ]
    out += [Route(app + path, d.action(handler), methods=["POST"]) for path, handler in actions]
    return out
