"""/regions and /stacks: the one region (this machine) and the one stack hoist has, in Heroku's shapes."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint
from hoist.api.errors import not_found
from hoist.state.users import User

_EPOCH = "2024-01-01T00:00:00Z"


def region() -> dict[str, Any]:
    return {**serialize.REGION, "description": "This machine (hoist)", "country": "local", "locale": "local",
            "private_capable": False, "provider": {"name": "hoist", "region": "local"},
            "created_at": _EPOCH, "updated_at": _EPOCH}


def stack() -> dict[str, Any]:
    return {**serialize.STACK, "state": "default", "created_at": _EPOCH, "updated_at": _EPOCH}


async def list_regions(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse([region()])


async def get_region(request: Request, ctx: Ctx, user: User) -> Response:
    if request.path_params["region"] not in (serialize.REGION["id"], serialize.REGION["name"]):
        raise not_found("region", f"Couldn't find that region: hoist runs apps in one region, "
                        f"{serialize.REGION['name']!r} (this machine).")
    return JSONResponse(region())


async def list_stacks(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse([stack()])


async def get_stack(request: Request, ctx: Ctx, user: User) -> Response:
    if request.path_params["stack"] not in (serialize.STACK["id"], serialize.STACK["name"]):
        raise not_found("stack", f"Couldn't find that stack: hoist builds every app on {serialize.STACK['name']}.")
    return JSONResponse(stack())


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/regions", endpoint(ctx, list_regions), methods=["GET"]),
        Route("/regions/{region}", endpoint(ctx, get_region), methods=["GET"]),
        Route("/stacks", endpoint(ctx, list_stacks), methods=["GET"]),
        Route("/stacks/{stack}", endpoint(ctx, get_stack), methods=["GET"]),
    ]
