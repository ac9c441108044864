"""/apps/{app}/collaborators (Heroku's shape, the owner listed first) and
/apps/{app}/activity (hoist's audit log of who did what)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid
from hoist.state import activity as activity_t
from hoist.state import collaborators as collaborators_t
from hoist.state import users as users_t
from hoist.state.apps import App
from hoist.state.users import User


def collaborator(app: App, id: str, user_id: str, email: str, created_at: str, role: str) -> dict[str, Any]:
    return {"id": id, "app": {"id": app.id, "name": app.name}, "created_at": created_at, "updated_at": created_at,
            "permissions": [], "role": role, "user": {"id": user_id, "email": email, "federated": False}}


async def list_collaborators(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    db = ctx.platform.db
    owner = users_t.get_user(db, app.owner_id)
    items = [collaborator(app, app.owner_id, app.owner_id, owner.email if owner else "", app.created_at, "owner")]
    items += [collaborator(app, c.id, c.user_id, c.email, c.created_at, "collaborator")
              for c in collaborators_t.list_for_app(db, app.id)]
    return JSONResponse(items)


async def add_collaborator(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    email = body.get("user") if isinstance(body, dict) else None
    if isinstance(email, dict):
        email = email.get("email")
    if not isinstance(email, str) or not email:
        raise invalid("Send {\"user\": \"EMAIL\"}: the email of a user on this hoist.", "collaborator")
    c = ctx.platform.add_collaborator(app, user, email)
    return JSONResponse(collaborator(app, c.id, c.user_id, c.email, c.created_at, "collaborator"), status_code=201)


async def remove_collaborator(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    c = ctx.platform.remove_collaborator(app, user, request.path_params["email"])
    return JSONResponse(collaborator(app, c.id, c.user_id, c.email, c.created_at, "collaborator"))


async def activity(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse([{"id": a.id, "action": a.action, "detail": a.detail, "user": {"email": a.user_email},
                          "created_at": a.created_at} for a in activity_t.list_for_app(ctx.platform.db, app.id)])


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/collaborators", endpoint(ctx, list_collaborators), methods=["GET"]),
        Route("/apps/{app}/collaborators", endpoint(ctx, add_collaborator), methods=["POST"]),
        Route("/apps/{app}/collaborators/{email}", endpoint(ctx, remove_collaborator), methods=["DELETE"]),
        Route("/apps/{app}/activity", endpoint(ctx, activity), methods=["GET"]),
    ]
