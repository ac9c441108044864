"""/apps/{app}/log-drains: Heroku's log drains. A drain's URL is a secret: answers show it masked (scheme and
host); `drains:remove` finds a drain by its full URL, its token or its id."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid
from hoist.platform.drains import DrainView
from hoist.state.apps import App
from hoist.state.users import User


def drain_json(app: App, view: DrainView) -> dict[str, Any]:
    d, status = view.drain, view.status
    return {"id": d.id, "url": view.masked_url, "token": d.token, "created_at": d.created_at,
            "updated_at": d.updated_at, "addon": None, "app": {"id": app.id, "name": app.name},
            "status": None if status is None else {
                "state": status.state, "error": status.error, "delivered": status.delivered,
                "dropped": status.dropped, "buffered": status.buffered}}


async def list_drains(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    extended = request.query_params.get("extended") == "true"  # heroku drains --extended
    return JSONResponse([{**drain_json(app, v), **({"extended": {"drain_id": v.drain.id}} if extended else {})}
                         for v in ctx.platform.drains.list(app)])


async def add_drain(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid("Send {\"url\": \"syslog+tls://logs.example.com:6514\"}.", "log_drain")
    return JSONResponse(drain_json(app, ctx.platform.drains.add(app, user, body.get("url"))), status_code=201)


async def get_drain(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    drain = ctx.platform.drains.find(app, request.path_params["drain"])
    return JSONResponse(next(drain_json(app, v) for v in ctx.platform.drains.list(app) if v.drain.id == drain.id))


async def remove_drain(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(drain_json(app, ctx.platform.drains.remove(app, user, request.path_params["drain"])))


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/log-drains", endpoint(ctx, list_drains), methods=["GET"]),
        Route("/apps/{app}/log-drains", endpoint(ctx, add_drain), methods=["POST"]),
        Route("/apps/{app}/log-drains/{drain:path}", endpoint(ctx, get_drain), methods=["GET"]),
        Route("/apps/{app}/log-drains/{drain:path}", endpoint(ctx, remove_drain), methods=["DELETE"]),
    ]
