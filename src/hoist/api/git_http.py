"""/{app}.git/...: smart-HTTP git behind token auth, and the internal push endpoint the hook calls."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hoist.api.streaming import DuplexStreamingResponse
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint
from hoist.api.errors import ApiError
from hoist.git.receiver import serve_git
from hoist.state import apps as apps_t
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


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/{app}.git/{rest:path}", endpoint(ctx, git), methods=["GET", "POST"]),
        Route("/internal/push/{app}", endpoint(ctx, internal_push, auth=False), methods=["POST"]),
    ]
