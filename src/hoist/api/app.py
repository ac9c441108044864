"""The control-plane ASGI app: every resource module's routes, one error shape."""
from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hoist.api import absent, apps, builds, ca, config_vars, domains, dynos, formation, git_http, log_sessions, releases
from hoist.api import accounts, collaborators, openapi
from hoist.api import addon_services, addons, dataclips, pg, scheduler
from hoist.api import app_setups, buildpacks, sleep, sources, transfers
from hoist.api import ci, connections
from hoist.api import pg_data, platform_info
from hoist.api import drains, nodes, pipelines
from hoist.api.context import Ctx


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"id": "not_found", "message": f"No such resource: {request.method} {request.url.path}. "
                         "See the Heroku Platform API reference for the paths hoist serves."}, status_code=404)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return JSONResponse({"id": "method_not_allowed",
                         "message": f"{request.method} is not allowed on {request.url.path}."}, status_code=405)


async def _server_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"id": "internal_server_error", "message": "hoist hit an internal error; "
                         "see the `hoist server` output and report it."}, status_code=500)


async def _root(request: Request) -> Response:
    return JSONResponse({"name": "hoist", "message": "This is a hoist server. Use the `hoist` CLI, or the Heroku "
                         "Platform API paths (GET /apps)."})


def create_api(ctx: Ctx, faces: Sequence[BaseRoute] = ()) -> Starlette:
    """The API's routes, then `faces` (the dashboard's, which server.py composes) on the same host."""
    routes: list[BaseRoute] = [Route("/", _root, methods=["GET"])]
    for module in (apps, config_vars, releases, formation, dynos, builds, log_sessions, git_http, domains, ca):
        routes.extend(module.routes(ctx))
    for module in (accounts, collaborators, openapi):
        routes.extend(module.routes(ctx))
    for module in (addons, addon_services, scheduler, pg, dataclips):
        routes.extend(module.routes(ctx))
    routes.extend(sleep.routes(ctx))
    routes.extend(sources.routes(ctx))
    routes.extend(app_setups.routes(ctx))
    routes.extend(transfers.routes(ctx))
    routes.extend(buildpacks.routes(ctx))
    routes.extend(ci.routes(ctx))
    routes.extend(connections.routes(ctx))
    routes.extend(platform_info.routes(ctx))
    routes.extend(pg_data.routes(ctx))
    routes.extend(pipelines.routes(ctx))
    routes.extend(drains.routes(ctx))
    routes.extend(nodes.routes(ctx))
    routes.extend(faces)
    routes.extend(absent.routes(ctx))  # last: real routes for the same paths win
    return Starlette(routes=routes, exception_handlers={404: _not_found, 405: _method_not_allowed,
                                                        500: _server_error})
