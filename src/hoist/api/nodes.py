"""/nodes (admin only): the machines dynos run on; POST /nodes/{node}/actions/drain and .../activate."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint
from hoist.state.users import User


async def list_nodes(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(await ctx.platform.nodes.list(user))


async def drain_node(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(await ctx.platform.nodes.drain(user, request.path_params["node"]))


async def activate_node(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(await ctx.platform.nodes.activate(user, request.path_params["node"]))


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/nodes", endpoint(ctx, list_nodes), methods=["GET"]),
        Route("/nodes/{node}/actions/drain", endpoint(ctx, drain_node), methods=["POST"]),
        Route("/nodes/{node}/actions/activate", endpoint(ctx, activate_node), methods=["POST"]),
    ]
