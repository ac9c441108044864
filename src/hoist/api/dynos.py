"""/apps/{app}/dynos: list; DELETE restarts all or one dyno (or one type); actions/stop stops one."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint
from hoist.api.errors import not_found
from hoist.state.users import User


async def list_dynos(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    rt = ctx.platform.supervisor.apps.get(app.name)
    dynos = sorted(rt.dynos.values(), key=lambda d: (d.type, d.number)) if rt else []
    return JSONResponse([serialize.dyno(app, d) for d in dynos])


async def get_dyno(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    rt = ctx.platform.supervisor.apps.get(app.name)
    key = request.path_params["dyno"]
    for d in (rt.dynos.values() if rt else []):
        if key in (d.name, d.id):
            return JSONResponse(serialize.dyno(app, d))
    raise not_found("dyno", f"Couldn't find dyno {key}; run `hoist ps` to list them.")


async def restart_all(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    await ctx.platform.supervisor.restart(app.name)
    ctx.platform.logs.emit(app.name, "app", "api", f"Restart all dynos by user {user.email}")
    return JSONResponse({})


async def restart_one(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    target = request.path_params["dyno"]
    count = await ctx.platform.supervisor.restart(app.name, target)
    if count == 0:
        raise not_found("dyno", f"No dyno or process type named {target}; run `hoist ps` to list them.")
    ctx.platform.logs.emit(app.name, "app", "api", f"Restart {target} by user {user.email}")
    return JSONResponse({})


async def stop_one(request: Request, ctx: Ctx, user: User) -> Response:
    """POST .../dynos/{dyno}/actions/stop: stop it; the formation starts it again (Heroku's ps:stop)."""
    app = ctx.app(user, request.path_params["app"])
    target = request.path_params["dyno"]
    count = await ctx.platform.supervisor.stop(app.name, target)
    if count == 0:
        raise not_found("dyno", f"No dyno or process type named {target}; run `hoist ps` to list them.")
    ctx.platform.logs.emit(app.name, "app", "api", f"Stop {target} by user {user.email}")
    return JSONResponse({})


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/dynos", endpoint(ctx, list_dynos), methods=["GET"]),
        Route("/apps/{app}/dynos", endpoint(ctx, restart_all), methods=["DELETE"]),
        Route("/apps/{app}/dynos/{dyno}", endpoint(ctx, get_dyno), methods=["GET"]),
        Route("/apps/{app}/dynos/{dyno}", endpoint(ctx, restart_one), methods=["DELETE"]),
        Route("/apps/{app}/dynos/{dyno}/actions/stop", endpoint(ctx, stop_one), methods=["POST"]),
    ]
