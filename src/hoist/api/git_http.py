"""/{app}.git/...: smart-HTTP git behind token auth, and the internal push endpoint the hook calls."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from hoist.asgi.streaming import DuplexStreamingResponse
from starlette.routing import Route

from hoist.api.auth import token_from_header
from hoist.api.context import Ctx, endpoint
from hoist.api.errors import ApiError
from hoist.git.receiver import serve_git
from hoist.git.refusal import error_advertisement
from hoist.state import apps as apps_t
from hoist.state import disk
from hoist.state import users as users_t
from hoist.state.users import User


async def git(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    p = ctx.platform
    return await serve_git(request, app.name, request.path_params["rest"], user,
                           str(p.paths.app(app.name)), ctx.push_tokens, p.internal_url,
                           max_body=p.settings.max_push_mb * 1024 * 1024)


async def internal_push(request: Request, ctx: Ctx, user: None) -> Response:
    name = request.path_params["app"]
    grant = ctx.push_tokens.take(request.headers.get("x-hoist-push-token", ""), name)
    app = apps_t.get_app(ctx.platform.db, name) if grant else None
    if grant is None or app is None:
        raise ApiError(401, "unauthorized", "This push token is unknown or already used.")
    commit = request.headers.get("x-hoist-commit", "")
    lines = ctx.pushes.run(app, grant.user, commit, request.stream())
    return DuplexStreamingResponse(lines, media_type="text/plain; charset=utf-8")


BAD_TOKEN = ("Invalid credentials provided: the token git sent (from ~/.netrc) is expired, revoked or unknown. "
             "Run `hoist login`, then push again.")


def refusing_bad_tokens(ctx: Ctx, inner: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A rejected token gets git's `remote error:` (a 401 would make git prompt for a username instead); so does
    a push while HOIST_HOME is out of disk space, before git writes a single object (fetches go on)."""
    async def run(request: Request) -> Response:
        service = request.query_params.get("service", "")
        token = token_from_header(request.headers.get("authorization"))
        refusal = None
        if request.path_params["rest"] == "info/refs" and service in ("git-receive-pack", "git-upload-pack") and token:
            if users_t.user_for_token(ctx.platform.db, token) is None:
                refusal = BAD_TOKEN
            elif service == "git-receive-pack" and disk.low(ctx.platform.paths.home):
                refusal = disk.full_message(ctx.platform.paths.home)
        if refusal is not None:
            return Response(error_advertisement(service, refusal), 200,
                            media_type=f"application/x-{service}-advertisement", headers={"Cache-Control": "no-cache"})
        return await inner(request)
    return run


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/{app}.git/{rest:path}", refusing_bad_tokens(ctx, endpoint(ctx, git)), methods=["GET", "POST"]),
        Route("/internal/push/{app}", endpoint(ctx, internal_push, auth=False), methods=["POST"]),
    ]
