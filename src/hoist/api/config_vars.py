"""/apps/{app}/config-vars: a flat map; PATCH sets keys, null removes them; every change is a release."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body, release_headers
from hoist.api.errors import invalid
from hoist.state import config as config_t
from hoist.state.users import User


async def get_config(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(config_t.get_config(ctx.platform.db, app.id))


async def patch_config(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict) or not body:
        raise invalid("Send a JSON object of config vars, for example {\"GREETING\": \"hi\"} (null removes a var).",
                      "config_vars")
    changes: dict[str, str | None] = {}
    for key, value in body.items():
        if value is None:
            changes[key] = None
        elif isinstance(value, (str, int, float, bool)):
            changes[key] = str(value).lower() if isinstance(value, bool) else str(value)
        else:
            raise invalid(f"The value of {key} must be a string (or null to remove it).", "config_vars")
    config, release, result = await ctx.platform.set_config(app, changes, user)
    return JSONResponse(config, headers=release_headers(ctx, app, release, result))


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/config-vars", endpoint(ctx, get_config), methods=["GET"]),
        Route("/apps/{app}/config-vars", endpoint(ctx, patch_config), methods=["PATCH"]),
    ]
