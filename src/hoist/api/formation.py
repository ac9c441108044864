"""/apps/{app}/formation: list and scale."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint, json_body, listing
from hoist.api.errors import invalid, not_found
from hoist.state import formation as formation_t
from hoist.state.apps import App
from hoist.state.users import User


def _commands(ctx: Ctx, app: App) -> dict[str, str]:
    run = ctx.platform.current_run(app)
    return run.process_types if run else {}


def _quantity(value: Any) -> int:
    """Quantities may arrive as numbers or strings (the heroku CLI sends strings)."""
    if isinstance(value, bool):
        raise invalid("quantity must be a whole number.", "formation")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise invalid(f"quantity {value!r} is not a whole number.", "formation")


SIZE = "standard-1X"


def _check_size(value: Any) -> None:
    """hoist has one dyno size; asking for it is a no-op, asking for another says so."""
    if not isinstance(value, str) or value.strip().lower() != SIZE.lower():
        raise invalid(f"hoist runs every dyno at one size, {SIZE} (the machine's resources under per-dyno limits); "
                      f"{value!r} is not available. Change the number of dynos instead: ps:scale web=2.", "formation")


async def list_formation(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    cmds = _commands(ctx, app)
    items = [f for f in formation_t.list_formation(ctx.platform.db, app.id) if f.type in cmds or not cmds]
    return listing(request, items, ["id", "type"], lambda f, k: getattr(f, k),
                   lambda f: serialize.formation(app, f, cmds.get(f.type, "")))


async def batch_update(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    updates = body.get("updates") if isinstance(body, dict) else None
    if not isinstance(updates, list) or not updates:
        raise invalid("Send {\"updates\": [{\"type\": \"web\", \"quantity\": 2}]}.", "formation")
    changes: dict[str, int] = {}
    types: set[str] = set()
    for u in updates:
        if not isinstance(u, dict) or not isinstance(u.get("type"), str) or not ("quantity" in u or "size" in u):
            raise invalid("Each update needs a type and a quantity (or a size).", "formation")
        if "size" in u:
            _check_size(u["size"])
        if "quantity" in u:
            changes[u["type"]] = _quantity(u["quantity"])
        types.add(u["type"])
    known = {f.type for f in formation_t.list_formation(ctx.platform.db, app.id)}
    if types - known - set(changes):  # a size for a type that is not in the formation
        raise not_found("formation", f"Couldn't find that process type ({', '.join(sorted(types - known))}).")
    if changes:
        await ctx.platform.scale(app, changes, user)
    cmds = _commands(ctx, app)
    items = [f for f in formation_t.list_formation(ctx.platform.db, app.id) if f.type in types]
    return JSONResponse([serialize.formation(app, f, cmds.get(f.type, "")) for f in items])


async def get_one(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    key = request.path_params["type"]
    for f in formation_t.list_formation(ctx.platform.db, app.id):
        if key in (f.type, f.id):
            return JSONResponse(serialize.formation(app, f, _commands(ctx, app).get(f.type, "")))
    raise not_found("formation", f"Couldn't find that process type ({key}).")


async def update_one(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict) or not ("quantity" in body or "size" in body):
        raise invalid("Send {\"quantity\": N}.", "formation")
    if "size" in body:
        _check_size(body["size"])
    ptype = request.path_params["type"]
    if "quantity" in body:
        await ctx.platform.scale(app, {ptype: _quantity(body["quantity"])}, user)
    return await get_one(request, ctx, user)


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/formation", endpoint(ctx, list_formation), methods=["GET"]),
        Route("/apps/{app}/formation", endpoint(ctx, batch_update), methods=["PATCH"]),
        Route("/apps/{app}/formation/{type}", endpoint(ctx, get_one), methods=["GET"]),
        Route("/apps/{app}/formation/{type}", endpoint(ctx, update_one), methods=["PATCH"]),
    ]
