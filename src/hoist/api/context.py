"""What every endpoint needs: the platform, authentication, and a wrapper
that turns errors into Heroku-shaped JSON and adds the standard headers."""
from __future__ import annotations

import re
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hoist.accounts.login import Logins
from hoist.accounts.ratelimit import RateLimiter
from hoist.api.auth import token_from_header
from hoist.api.errors import ApiError, bad_request
from hoist.api.ranges import RangeError, format_next_range, page, parse_range
from hoist.asgi.body import BodyError, read_json
from hoist.dynos.commands import DeployResult
from hoist.dynos.oneoff import OneOffs
from hoist.git.receiver import PushTokens
from hoist.logs.sessions import LogSessions
from hoist.platform.connected import Connections
from hoist.platform.control import Platform
from hoist.platform.errors import PlatformError
from hoist.platform.pipeline import Pushes
from hoist.platform.rename import Renames
from hoist.platform.setups import AppSetups
from hoist.state import disk
from hoist.state import users as users_t
from hoist.state.apps import App
from hoist.state.releases import Release
from hoist.state.users import User

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9+=/-]{20,200}$")

# The third argument is the authenticated user (None for endpoints with auth=False).
Handler = Callable[[Request, "Ctx", Any], Awaitable[Response]]


@dataclass
class Ctx:
    """The API's collaborators, built complete by the server."""
    platform: Platform
    pushes: Pushes
    setups: AppSetups  # POST /app-setups
    renames: Renames  # PATCH /apps/{app} {"name"}
    oneoffs: OneOffs
    logins: Logins  # password logins (POST /oauth/authorizations), shared with the dashboard
    log_sessions: LogSessions  # shared with the dashboard's log pane
    push_tokens: PushTokens
    limiter: RateLimiter
    connections: Connections  # deploys from connected repositories (and their webhook)

    def authenticate(self, request: Request) -> User:
        """The user of the request's token; revoked, expired and unknown tokens are all a 401."""
        token = token_from_header(request.headers.get("authorization"))
        user = users_t.user_for_token(self.platform.db, token) if token else None
        if user is None or token is None:
            raise ApiError(401, "unauthorized", "Invalid credentials provided. Run `hoist login`, or set "
                           "HOIST_API_KEY to a valid API token.")
        users_t.touch_token(self.platform.db, token)
        return user

    def spend(self, request: Request) -> int:
        """Take one request from the caller's token bucket; 429 when it is empty. Returns what is left."""
        token = token_from_header(request.headers.get("authorization")) or ""
        allowed, remaining = self.limiter.take(users_t.hash_token(token))
        if not allowed:
            raise ApiError(429, "rate_limit", f"Your account reached the API rate limit of "
                           f"{self.limiter.per_hour} requests per hour. Wait a minute and retry: the "
                           "allowance refills continuously.")
        return remaining

    def app(self, user: User, name_or_id: str) -> App:
        try:
            return self.platform.find_app(user, name_or_id)
        except PlatformError as exc:
            raise ApiError(exc.status, exc.id, exc.message, exc.resource) from None


def disk_full(ctx: Ctx) -> ApiError:
    """507: HOIST_HOME has no room for a write (which was refused, or rolled back whole)."""
    return ApiError(507, "disk_full", disk.full_message(ctx.platform.paths.home))


def endpoint(ctx: Ctx, handler: Handler, *, auth: bool = True,
             writes: bool | None = None) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: authenticate, map errors, add Request-Id and RateLimit-Remaining. A request that
    `writes` (by default POST, PATCH and PUT) is refused with 507 while HOIST_HOME is (nearly) full; one that
    fills it is answered 507 too. Reads and DELETEs (which free space) go on."""
    async def run(request: Request) -> Response:
        rid = request.headers.get("request-id") or request.headers.get("x-request-id") or ""
        if not _REQUEST_ID_RE.match(rid):
            rid = str(uuid.uuid4())
        remaining = ctx.limiter.per_hour
        try:
            user = ctx.authenticate(request) if auth else None
            if user is not None:
                remaining = ctx.spend(request)
            if (request.method in ("POST", "PATCH", "PUT") if writes is None else writes) and disk.low(
                    ctx.platform.paths.home):
                raise disk_full(ctx)
            response = await handler(request, ctx, user)  # type: ignore[arg-type]
        except ApiError as exc:
            response = exc.response()
        except PlatformError as exc:
            response = ApiError(exc.status, exc.id, exc.message, exc.resource).response()
        except (OSError, sqlite3.OperationalError) as exc:
            if not disk.is_full(exc):
                raise
            response = disk_full(ctx).response()
        response.headers["Request-Id"] = rid
        response.headers["RateLimit-Remaining"] = str(max(0, remaining))
        return response
    return run


async def json_body(request: Request) -> Any:
    try:
        return await read_json(request)
    except BodyError as exc:
        raise ApiError(exc.status, exc.id, exc.message) from None


def listing(request: Request, items: list[Any], fields: list[str], key: Callable[[Any, str], Any],
            render: Callable[[Any], dict[str, Any]]) -> Response:
    """A list response with Heroku's Range paging: 206 + Next-Range only when more exist."""
    try:
        rng = parse_range(request.headers.get("range"), fields, fields[0])
        selected, next_rng = page(items, rng, lambda it: key(it, rng.field))
    except RangeError as exc:
        raise bad_request(str(exc)) from None
    headers = {"Accept-Ranges": ", ".join(fields)}
    status = 200
    if next_rng is not None:
        status = 206
        headers["Next-Range"] = format_next_range(next_rng)
    return JSONResponse([render(it) for it in selected], status_code=status, headers=headers)




def release_headers(ctx: Ctx, app: App, rel: Release, result: DeployResult) -> dict[str, str]:
    """How the release a request made went, for the hoist CLI (the heroku CLI reads the release's status).

    Hoist-Release-Message: it failed (the old release serves); Hoist-Release-Warning: it is live, but its
    web dyno crashed at boot. The full report is the release's output (`releases:output`)."""
    headers = {"Hoist-Release": f"v{rel.version}", "Hoist-Release-Status": rel.status}
    if result.failure or not result.ok:
        text = ctx.platform.releases.summary(app, rel, result).encode("ascii", "replace").decode()
        headers["Hoist-Release-Message" if not result.ok else "Hoist-Release-Warning"] = text
    return headers
