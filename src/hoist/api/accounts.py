"""/users (admin only) and /oauth/authorizations (a user's API tokens; also
the login endpoint: POST with Basic email:password, as `heroku login -i`)."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.asgi.client_ip import client_ip
from hoist.accounts.login import LoginRefused
from hoist.api import serialize
from hoist.api.context import Ctx, endpoint, json_body
from hoist.platform.users import require_admin
from hoist.api.errors import ApiError, invalid, not_found
from hoist.state import users as users_t
from hoist.state.users import Token, User

MAX_EXPIRES_IN = 10 * 365 * 24 * 3600


# ----- users (platform/users.py) -----

async def list_users(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse([serialize.user(u) | {"admin": u.is_admin} for u in ctx.platform.users.list(user)])


async def create_user(request: Request, ctx: Ctx, user: User) -> Response:
    require_admin(user)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid("Send a JSON object such as {\"email\": \"ada@example.com\"}.", "user")
    new, generated = await ctx.platform.users.add(user, body.get("email"), body.get("password"))
    data = serialize.user(new) | {"admin": False}
    if generated is not None:
        data["password"] = generated  # shown once; stored only as an argon2 hash
    return JSONResponse(data, status_code=201)


async def delete_user(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(serialize.user(ctx.platform.users.remove(user, request.path_params["user"])))


async def reset_password(request: Request, ctx: Ctx, user: User) -> Response:
    target, secret = await ctx.platform.users.reset_password(user, request.path_params["user"])
    return JSONResponse(serialize.user(target) | {"admin": target.is_admin, "password": secret})  # shown once


# ----- authorizations -----

def _expires_in(t: Token) -> int | None:
    if not t.expires_at:
        return None
    end = datetime.strptime(t.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return max(0, int((end - datetime.now(timezone.utc)).total_seconds()))


def authorization(t: Token, user: User, token: str | None = None) -> dict[str, Any]:
    """Heroku's OAuth authorization shape; the token itself only when just created."""
    return {"id": t.id, "description": t.description, "scope": ["global"], "created_at": t.created_at,
            "updated_at": t.created_at, "last_used_at": t.last_used_at,
            "access_token": {"id": t.id, "token": token, "expires_in": _expires_in(t)},
            "refresh_token": None, "grant": None, "client": None, "session": None,
            "user": {"id": user.id, "email": user.email, "full_name": None}}


def _basic_password(header: str | None) -> tuple[str, str] | None:
    """(email, password) from `Basic base64(email:password)`, unless the password is an API token."""
    scheme, _, rest = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    email, sep, password = decoded.partition(":")
    if not sep or not email or password.startswith("hoist_"):
        return None
    return email.strip().lower(), password


async def _token_body(request: Request) -> tuple[str, str | None]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid("Send a JSON object such as {\"description\": \"CI\", \"expires_in\": 3600}.", "authorization")
    description = body.get("description") or ""
    if not isinstance(description, str) or len(description) > 200:
        raise invalid("description must be a string of up to 200 characters.", "authorization")
    expires_in = body.get("expires_in")
    expires_at = None
    if expires_in is not None:
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or not 1 <= expires_in <= MAX_EXPIRES_IN:
            raise invalid("expires_in must be a number of seconds from 1 to 10 years.", "authorization")
        expires_at = (datetime.now(timezone.utc) + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return description, expires_at


async def create_authorization(request: Request, ctx: Ctx, user: None) -> Response:
    creds = _basic_password(request.headers.get("authorization"))
    if creds is not None:
        try:
            who = await ctx.logins.with_password(client_ip(request), *creds)
        except LoginRefused as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
            raise ApiError(exc.status, exc.id, exc.message, headers=headers) from None
    else:
        who = ctx.authenticate(request)
        ctx.spend(request)
    description, expires_at = await _token_body(request)
    tid, token = users_t.create_token(ctx.platform.db, who.id, description, expires_at)
    t = users_t.get_token(ctx.platform.db, who.id, tid)
    assert t is not None
    return JSONResponse(authorization(t, who, token), status_code=201)


async def list_authorizations(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse([authorization(t, user) for t in users_t.list_tokens(ctx.platform.db, user.id)])


def _own_token(ctx: Ctx, user: User, token_id: str) -> Token:
    t = users_t.get_token(ctx.platform.db, user.id, token_id)
    if t is None:
        raise not_found("authorization", f"Couldn't find that authorization ({token_id}); see `hoist authorizations`.")
    return t


async def get_authorization(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(authorization(_own_token(ctx, user, request.path_params["id"]), user))


async def revoke_authorization(request: Request, ctx: Ctx, user: User) -> Response:
    t = _own_token(ctx, user, request.path_params["id"])
    users_t.revoke_token(ctx.platform.db, user.id, t.id)
    return JSONResponse(authorization(t, user))


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/users", endpoint(ctx, list_users), methods=["GET"]),
        Route("/users", endpoint(ctx, create_user), methods=["POST"]),
        Route("/users/{user}", endpoint(ctx, delete_user), methods=["DELETE"]),
        Route("/users/{user}/password-reset", endpoint(ctx, reset_password), methods=["POST"]),
        Route("/oauth/authorizations", endpoint(ctx, list_authorizations), methods=["GET"]),
        Route("/oauth/authorizations", endpoint(ctx, create_authorization, auth=False), methods=["POST"]),
        Route("/oauth/authorizations/{id}", endpoint(ctx, get_authorization), methods=["GET"]),
        Route("/oauth/authorizations/{id}", endpoint(ctx, revoke_authorization), methods=["DELETE"]),
    ]
