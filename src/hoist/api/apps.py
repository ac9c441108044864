"""/apps, /users/~/apps, /account."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint, json_body, listing
from hoist.api.errors import ApiError, invalid
from hoist.api.transfers import keep_previous, recipient_of, transfer
from hoist.state import apps as apps_t
from hoist.state.users import User

APP_FIELDS = ["id", "name"]


async def account(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(serialize.user(user))


async def list_apps(request: Request, ctx: Ctx, user: User) -> Response:
    p = ctx.platform
    return listing(request, p.visible_apps(user), APP_FIELDS, lambda a, f: getattr(a, f),
                   lambda a: serialize.app(p, a))


async def create_app(request: Request, ctx: Ctx, user: User) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid("Send a JSON object, for example {\"name\": \"notes\"}.", "app")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid("name must be a string.", "app")
    app = ctx.platform.create_app(user, name)
    return JSONResponse(serialize.app(ctx.platform, app), status_code=201)


async def get_app(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(serialize.app(ctx.platform, app))


async def update_app(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid("Send a JSON object such as {\"maintenance\": true}.", "app")
    unknown = set(body) - {"maintenance", "build_stack", "name", "owner", "remove_previous_owner"}
    if unknown:
        raise invalid(f"Unknown field(s) {', '.join(sorted(unknown))}: hoist can change name, owner and "
                      "maintenance.", "app")
    if "maintenance" in body and not isinstance(body["maintenance"], bool):
        raise invalid("maintenance must be true or false.", "app")
    recipient = recipient_of(body["owner"]) if body.get("owner") is not None else None
    keep = keep_previous(body)
    # Checked first, then applied: a bad field changes nothing.
    if "name" in body and body["name"] != app.name:
        app = await ctx.renames.rename(app, body["name"], user)
    if "maintenance" in body:
        ctx.platform.set_maintenance(app, body["maintenance"], user)
    if recipient is not None:
        transfer(ctx, app, user, recipient, keep)
    # Read again without an access check: a previous owner who gave up access still gets the answer.
    return JSONResponse(serialize.app(ctx.platform, apps_t.get_app(ctx.platform.db, app.id) or app))


async def delete_app(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    if not ctx.platform.can_manage(user, app):
        raise ApiError(403, "forbidden", f"Only the owner of {app.name} or the admin can destroy it.", "app")
    data = serialize.app(ctx.platform, app)
    await ctx.oneoffs.remove_app(app.name)  # first: the app's user can go only once nothing runs as it
    problems = await ctx.platform.destroy_app(app)
    # As Heroku's API warns: the CLI prints Warning-Message (one line, ASCII).
    headers = {"Warning-Message": " ".join(problems).encode("ascii", "replace").decode()} if problems else None
    return JSONResponse(data, headers=headers)


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/account", endpoint(ctx, account), methods=["GET"]),
        Route("/users/~", endpoint(ctx, account), methods=["GET"]),
        Route("/apps", endpoint(ctx, list_apps), methods=["GET"]),
        Route("/users/~/apps", endpoint(ctx, list_apps), methods=["GET"]),
        Route("/apps", endpoint(ctx, create_app), methods=["POST"]),
        Route("/apps/{app}", endpoint(ctx, get_app), methods=["GET"]),
        Route("/apps/{app}", endpoint(ctx, update_app), methods=["PATCH"]),
        Route("/apps/{app}", endpoint(ctx, delete_app), methods=["DELETE"]),
    ]
