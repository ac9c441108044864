"""/apps/{app}/builds: list, info and the kept output of every build."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint, listing
from hoist.api.errors import not_found
from hoist.state import builds as builds_t
from hoist.state.users import User


async def list_builds(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    items = builds_t.list_builds(ctx.platform.db, app.id)
    return listing(request, items, ["created_at", "id"], lambda b, f: getattr(b, f),
                   lambda b: serialize.build(ctx.platform, app, b))


def _build(ctx: Ctx, request: Request, user: User):  # type: ignore[no-untyped-def]
    app = ctx.app(user, request.path_params["app"])
    b = builds_t.get_build(ctx.platform.db, app.id, request.path_params["build"])
    if b is None:
        raise not_found("build", f"Couldn't find build {request.path_params['build']}; run `hoist builds`.")
    return app, b


async def get_build(request: Request, ctx: Ctx, user: User) -> Response:
    app, b = _build(ctx, request, user)
    return JSONResponse(serialize.build(ctx.platform, app, b))


async def build_output(request: Request, ctx: Ctx, user: User) -> Response:
    app, b = _build(ctx, request, user)
    path = ctx.platform.paths.build_log(app.name, b.id)
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return PlainTextResponse(text)


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/builds", endpoint(ctx, list_builds), methods=["GET"]),
        Route("/apps/{app}/builds/{build}", endpoint(ctx, get_build), methods=["GET"]),
        Route("/apps/{app}/builds/{build}/output", endpoint(ctx, build_output), methods=["GET"]),
    ]
