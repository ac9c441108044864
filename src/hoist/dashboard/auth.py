"""Logging in and out of the dashboard, and who a request belongs to.

Passwords are checked by the same code as `POST /oauth/authorizations`
(accounts/login.py, with its throttle); an API token may be used instead. Either way the browser only
gets a random session id in an HttpOnly, SameSite=Strict cookie."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hoist.accounts.login import LoginRefused, Logins
from hoist.asgi.client_ip import client_ip
from hoist.dashboard import render
from hoist.dashboard.security import COOKIE, LOGIN_COOKIE, PREFIX, cookie_args, safe_next, same_origin
from hoist.dashboard.sessions import MAX_TTL, Session, SessionStore
from hoist.state import users as users_t
from hoist.state.db import Database, utcnow
from hoist.state.users import User

MAX_FORM = 64 * 1024


class Refused(Exception):
    """A request the dashboard will not carry out: status and a page message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body, bounded (the dashboard's forms are small)."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM:
            raise Refused(413, "That form is over 64 KiB; send less data.")
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=50))
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "That form could not be read; reload the page and try again.") from None


def is_secure(request: Request) -> bool:
    # The router terminates TLS and says so; it replaces any client-sent value.
    return request.headers.get("x-forwarded-proto") == "https" or request.url.scheme == "https"


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}/login?next={quote(safe_next(target), safe='/')}", status_code=303)


@dataclass
class Gate:
    db: Database
    logins: Logins
    store: SessionStore

    def current(self, request: Request) -> tuple[Session, User] | None:
        """The session and user of a request; None when logged out, expired, or its token or user is gone."""
        sid = request.cookies.get(COOKIE)
        session = self.store.get(sid)
        if session is None:
            return None
        db = self.db
        user = users_t.get_user(db, session.user_id)
        if user is not None and session.token_id is not None:
            token = users_t.get_token(db, user.id, session.token_id)
            if token is None or (token.expires_at is not None and token.expires_at <= utcnow()):
                user = None
        if user is None:
            self.store.delete(sid)
            return None
        return session, user

    def check_post(self, request: Request, session: Session, supplied: str | None) -> None:
        """Refuse a state change from another site or without this session's CSRF token."""
        if not same_origin(request.headers.get("origin"), request.headers.get("referer"),
                           request.headers.get("host")):
            raise Refused(403, "This request came from another site; use the dashboard's own forms.")
        if not session.check_csrf(supplied):
            raise Refused(403, "The form's security token is missing or stale; reload the page and try again.")

    async def login_page(self, request: Request) -> Response:
        if self.current(request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return self._login_form(request, "", 200)

    def _login_form(self, request: Request, error: str, status: int, email: str = "") -> Response:
        nonce = secrets.token_urlsafe(24)
        response = render.html("login.html", status, title="Log in", error=error, email=email, login_csrf=nonce,
                               next=safe_next(request.query_params.get("next")))
        response.set_cookie(LOGIN_COOKIE, nonce, **cookie_args(is_secure(request), 3600))  # type: ignore[arg-type]
        return response

    async def login(self, request: Request) -> Response:
        try:
            form = await read_form(request)
        except Refused as exc:
            return render.html("error.html", exc.status, title="Refused", message=exc.message)
        expected = request.cookies.get(LOGIN_COOKIE) or ""
        if (not same_origin(request.headers.get("origin"), request.headers.get("referer"),
                            request.headers.get("host"))
                or not expected or not secrets.compare_digest(expected, form.get("login_csrf", ""))):
            return self._login_form(request, "The login form expired or came from another site; try again.", 403)
        email = form.get("email", "").strip().lower()
        token = form.get("token", "").strip()
        try:
            if token:
                user, token_id = self.logins.with_token(client_ip(request), token)
            else:
                if not email or not form.get("password"):
                    return self._login_form(request, "Enter your email and password, or an API token.", 400, email)
                user, token_id = await self.logins.with_password(client_ip(request), email, form["password"]), None
        except LoginRefused as exc:
            return self._login_form(request, exc.message, exc.status, email)
        sid, _ = self.store.create(user.id, token_id)
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        response.set_cookie(COOKIE, sid, **cookie_args(is_secure(request), int(MAX_TTL)))  # type: ignore[arg-type]
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX + "/")
        return response

    async def logout(self, request: Request) -> Response:
        found = self.current(request)
        if found is not None:
            try:
                form = await read_form(request)
                self.check_post(request, found[0], form.get("csrf"))
            except Refused as exc:
                return render.html("error.html", exc.status, title="Refused", message=exc.message)
            self.store.delete(request.cookies.get(COOKIE))
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX + "/")
        return response

