"""Sleep and wake: `GET/PATCH /apps/{app}/sleep` (ps:sleep on|off) and the
router-only `POST /internal/wake/{app}` (guarded by the router's secret)."""
from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid
from hoist.state import apps as apps_t
from hoist.state import sleep as sleep_t
from hoist.state.apps import App
from hoist.state.users import User


def _body(ctx: Ctx, app: App) -> dict[str, object]:
    return {"enabled": sleep_t.get_sleep(ctx.platform.db, app.id), "asleep": ctx.platform.asleep(app),
            "after_minutes": ctx.platform.settings.sleep_after}


async def get_sleep(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(_body(ctx, app))


async def set_sleep(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    enabled = body.get("enabled") if isinstance(body, dict) else None
    if not isinstance(enabled, bool):
        raise invalid('Send {"enabled": true} or {"enabled": false}.', "app")
    ctx.platform.set_sleep(app, enabled, user)
    return JSONResponse(_body(ctx, app))


async def wake(request: Request, ctx: Ctx) -> Response:
    """Called by the router for a request to an idle app; answers once its web dynos are up."""
    given = request.headers.get("x-hoist-wake-secret", "")
    if not hmac.compare_digest(given.encode(), ctx.platform.wake_secret.encode()):
        return JSONResponse({"id": "forbidden", "message": "Only hoist's router may wake apps."}, status_code=403)
    name = request.path_params["app"]
    if apps_t.get_app(ctx.platform.db, name) is None:
        return JSONResponse({"id": "not_found", "message": f"No app {name}."}, status_code=404)
    up = await ctx.platform.wake(name)
    if not up:
        return JSONResponse({"id": "unavailable", "message": f"{name} did not come up; see `hoist logs`."},
                            status_code=503)
    return JSONResponse({"state": "up"})


def routes(ctx: Ctx) -> list[Route]:
    async def wake_endpoint(request: Request) -> Response:
        return await wake(request, ctx)

    return [
        Route("/apps/{app}/sleep", endpoint(ctx, get_sleep), methods=["GET"]),
        Route("/apps/{app}/sleep", endpoint(ctx, set_sleep), methods=["PATCH"]),
        Route("/internal/wake/{app}", wake_endpoint, methods=["POST"]),
    ]
