"""What every dashboard page and action goes through: the session gate, the origin and CSRF
check of a form POST, the app looked up exactly as the API does (`Platform.find_app`), and
platform errors turned into a page or a flash message."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hoist.accounts.login import Logins
from hoist.dashboard import render
from hoist.dashboard.auth import Gate, Refused, read_form, to_login
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session, SessionStore
from hoist.logs.sessions import LogSessions
from hoist.platform.control import Platform
from hoist.platform.errors import PlatformError
from hoist.state import disk
from hoist.state.apps import App
from hoist.state.users import User

NOT_FOUND = "Couldn't find that app. It does not exist, or you do not have access to it."

Page = Callable[[Request, Session, User], Awaitable[Response]]


@dataclass(frozen=True)
class Next:
    """An action's message and the page to show it on, when that is not the app's tab (the app is gone)."""
    message: str
    target: str


Action = Callable[[Request, Session, User, App, dict[str, str]], Awaitable["str | Next"]]
# A form POST not about one app (create an app, the admin's user forms): returns (message, where to go next).
FreeAction = Callable[[Request, Session, User, dict[str, str]], Awaitable[tuple[str, str]]]
# What a form POST does once it passed the gate: (request, session, user, the app or None, the form,
# the default page) -> (message, the page to show it on).
_Operate = Callable[[Request, Session, User, "App | None", dict[str, str], str], Awaitable[tuple[str, str]]]
# Called after an app is destroyed, beside the platform's own clean-up (its one-off dynos).
OnDestroy = Callable[[str], Awaitable[None]]
# Whether a build's output is still being written (the push pipeline's own record).
BuildRunning = Callable[[str], bool]


def take_flash(session: Session) -> list[str]:
    messages, session.flash[:] = list(session.flash), []
    return messages


class Dashboard:
    def __init__(self, platform: Platform, logins: Logins, log_sessions: LogSessions,
                 store: SessionStore | None = None, on_destroy: OnDestroy | None = None,
                 build_running: BuildRunning | None = None) -> None:
        self.platform = platform
        self.log_sessions = log_sessions
        self.gate = Gate(platform.db, logins, store or SessionStore())
        platform.users.signed_out.append(self.gate.store.end_user)  # a reset from the API or CLI ends them too
        self.on_destroy = on_destroy
        self.build_running = build_running

    def page(self, handler: Page, partial: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            found = self.gate.current(request)
            if found is None:
                return Response("logged out", 401) if partial else to_login(request)
            try:
                return await handler(request, *found)
            except Refused as exc:
                return self.error(exc.status, exc.message, found)
            except PlatformError as exc:
                return self.error(exc.status, exc.message if exc.status != 404 else NOT_FOUND, found)
        return run

    def action(self, handler: Action, back: str = "") -> Callable[[Request], Awaitable[Response]]:
        """A form POST on one app: gate, origin + CSRF check, the operation, then back to the app's page
        (`back` is the tab: "", "/settings", ...)."""
        async def operate(request: Request, session: Session, user: User, app: App | None,
                          form: dict[str, str], target: str) -> tuple[str, str]:
            assert app is not None
            done = await handler(request, session, user, app, form)
            return (done.message, done.target) if isinstance(done, Next) else (done, target)
        return self._form_post(operate, lambda request: f"{PREFIX}/apps/{request.path_params['app']}{back}",
                               one_app=True)

    def free_action(self, handler: FreeAction, back: str) -> Callable[[Request], Awaitable[Response]]:
        """A form POST not about one app: gate, origin + CSRF check, the operation, then a page."""
        async def operate(request: Request, session: Session, user: User, app: App | None,
                          form: dict[str, str], target: str) -> tuple[str, str]:
            return await handler(request, session, user, form)
        return self._form_post(operate, lambda request: PREFIX + back, one_app=False)

    def _form_post(self, operate: _Operate, target_of: Callable[[Request], str],
                   one_app: bool) -> Callable[[Request], Awaitable[Response]]:
        """Every form POST: the gate, the origin + CSRF check, the app looked up as the API does (`one_app`),
        no write on a full disk, then the operation; its message is flashed on the page it names."""
        async def run(request: Request) -> Response:
            found = self.gate.current(request)
            if found is None:
                return to_login(request)
            session, user = found
            target = target_of(request)
            try:
                form = await read_form(request)
                self.gate.check_post(request, session, form.get("csrf"))
                app = self.platform.find_app(user, request.path_params["app"]) if one_app else None
                if disk.low(self.platform.paths.home):  # as the API: no write starts on a full disk
                    message = disk.full_message(self.platform.paths.home)
                else:
                    message, target = await operate(request, session, user, app, form, target)
            except Refused as exc:
                return self.error(exc.status, exc.message, found)
            except PlatformError as exc:
                if one_app and exc.status == 404 and exc.resource == "app":
                    return self.error(404, NOT_FOUND, found)
                message = exc.message
            except (OSError, sqlite3.OperationalError) as exc:
                if not disk.is_full(exc):
                    raise
                message = disk.full_message(self.platform.paths.home)
            session.flash.append(message)
            return RedirectResponse(target, status_code=303)
        return run

    def error(self, status: int, message: str, found: tuple[Session, User] | None) -> Response:
        session, user = found if found else (None, None)
        return render.html("error.html", status, title="Not found" if status == 404 else "Refused",
                           message=message, user=user, csrf=session.csrf if session else "")

    def app_of(self, request: Request, user: User) -> App:
        return self.platform.find_app(user, request.path_params["app"])

    def render_app(self, template: str, request: Request, session: Session, user: User, app: App, tab: str,
                   **context: Any) -> Response:
        """An app's tab: the app header and tab bar come from base_app.html."""
        return render.html(template, title=f"{app.name} · {tab}", user=user, csrf=session.csrf,
                           flash=take_flash(session), app=app, tab=tab, **context)
