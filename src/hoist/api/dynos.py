"""/apps/{app}/dynos: list; POST starts a one-off dyno; DELETE restarts all or one dyno (or one type); actions/stop stops one."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid, not_found
from hoist.api.oneoff_input import parse_run_request
from hoist.dynos.oneoff import OneOff
from hoist.state import config as config_t
from hoist.state.apps import App
from hoist.state.users import User


async def list_dynos(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    runs = [oneoff(app, d) for d in ctx.oneoffs.list(app.name)]
    return JSONResponse([serialize.dyno(app, d) for d in ctx.platform.dynos(app)] + runs)


def oneoff(app: App, d: OneOff) -> dict[str, object]:
    return {"id": d.id, "name": d.name, "type": d.type, "state": d.state, "command": d.command,
            "size": "standard-1X", "release": {"id": d.release.id, "version": d.release.version},
            "app": {"id": app.id, "name": app.name}, "attach_url": d.attach_url,
            "created_at": d.created_at, "updated_at": d.updated_at,
            "node": getattr(d.proc, "node", None)}  # hoist's own: the swarm node a one-off runs on (None: here)


async def create_dyno(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    req = parse_run_request(await json_body(request))
    run = ctx.platform.current_run(app)
    if run is None:
        raise invalid(f"{app.name} has no code yet, so there is nothing to run: push first "
                      f"(git push hoist main).", "dyno")
    d = await ctx.oneoffs.create(app.name, run, req.command, extra_env=req.env, attach=req.attach, tty=req.tty,
                                 rows=req.rows, cols=req.cols, exit_status=req.exit_status,
                                 time_to_live=req.time_to_live, user=user.email)
    # A config change whose release did not start is in the app's config, not in the release that runs.
    config = config_t.get_config(ctx.platform.db, app.id)
    stale = sorted(k for k in set(config) | set(run.config) if config.get(k) != run.config.get(k))
    headers = {"Hoist-Run-Warning": f"{d.name} runs v{run.version}, the current release, whose config differs from the "
               f"app's in {', '.join(stale)}: the release with that change did not start (see `hoist releases` and "
               "`hoist releases:output`)"} if stale else {}
    return JSONResponse(oneoff(app, d), status_code=201, headers=headers)


async def get_dyno(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    key = request.path_params["dyno"]
    for d in ctx.platform.dynos(app):
        if key in (d.name, d.id):
            return JSONResponse(serialize.dyno(app, d))
    run = ctx.oneoffs.find(app.name, key)
    if run is not None:
        return JSONResponse(oneoff(app, run))
    raise not_found("dyno", f"Couldn't find dyno {key}; run `hoist ps` to list them.")


async def restart_all(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    await ctx.platform.restart(app, user)
    return JSONResponse({})


async def restart_one(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    target = request.path_params["dyno"]
    run = ctx.oneoffs.find(app.name, target)
    if run is not None:  # a one-off dyno is not restarted: it stops, as on Heroku
        await ctx.oneoffs.stop(run)
        return JSONResponse({})
    if await ctx.platform.restart(app, user, target) == 0:
        raise not_found("dyno", f"No dyno or process type named {target}; run `hoist ps` to list them.")
    return JSONResponse({})


async def stop_one(request: Request, ctx: Ctx, user: User) -> Response:
    """ps:stop: a one-off dyno stops; a formation dyno stops and, as on Heroku, the formation starts it again."""
    app = ctx.app(user, request.path_params["app"])
    target = request.path_params["dyno"]
    run = ctx.oneoffs.find(app.name, target)
    if run is None:
        if await ctx.platform.stop(app, user, target) == 0:
            raise not_found("dyno", f"No dyno or process type named {target}; run `hoist ps` to list them.")
        return JSONResponse({}, status_code=202)
    await ctx.oneoffs.stop(run)
    ctx.platform.logs.emit(app.name, "app", "api", f"Stop {target} by user {user.email}")
    return JSONResponse({}, status_code=202)


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/dynos", endpoint(ctx, list_dynos), methods=["GET"]),
        Route("/apps/{app}/dynos", endpoint(ctx, restart_all), methods=["DELETE"]),
        Route("/apps/{app}/dynos", endpoint(ctx, create_dyno), methods=["POST"]),
        Route("/apps/{app}/dynos/{dyno}", endpoint(ctx, get_dyno), methods=["GET"]),
        Route("/apps/{app}/dynos/{dyno}", endpoint(ctx, restart_one), methods=["DELETE"]),
        Route("/apps/{app}/dynos/{dyno}/actions/stop", endpoint(ctx, stop_one), methods=["POST"]),
        # By process type (ps:restart/ps:stop --process-type): the same handlers, which accept a type too.
        Route("/apps/{app}/formations/{dyno}", endpoint(ctx, restart_one), methods=["DELETE"]),
        Route("/apps/{app}/formations/{dyno}/actions/stop", endpoint(ctx, stop_one), methods=["POST"]),
    ]
