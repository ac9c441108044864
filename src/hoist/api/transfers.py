"""POST /account/app-transfers: what `heroku apps:transfer EMAIL` sends for an app owned by a person.

On Heroku the recipient accepts the transfer later; on hoist the owner (or the admin) hands the app
over at once, so the transfer answers `state: accepted`. `PATCH /apps/{app}` with `{"owner": EMAIL}`
does the same. The previous owner stays on as a collaborator unless `remove_previous_owner` is true
(hoist's own field)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid
from hoist.state.apps import App
from hoist.state.db import utcnow
from hoist.state.users import User


def recipient_of(value: Any) -> str:
    """An email from `"EMAIL"` or `{"email": "EMAIL"}`."""
    if isinstance(value, dict):
        value = value.get("email")
    if not isinstance(value, str) or "@" not in value:
        raise invalid("Name the recipient by email: the email of a user on this hoist.", "app_transfer")
    return value


def keep_previous(body: dict[str, Any]) -> bool:
    remove = body.get("remove_previous_owner", False)
    if not isinstance(remove, bool):
        raise invalid("remove_previous_owner must be true or false.", "app_transfer")
    return not remove


def transfer(ctx: Ctx, app: App, user: User, recipient: str, keep: bool) -> dict[str, Any]:
    moved, previous, owner = ctx.platform.transfer(app, user, recipient, keep)
    now = utcnow()
    return {"id": moved.id, "app": {"id": moved.id, "name": moved.name}, "state": "accepted",
            "owner": {"id": previous.id, "email": previous.email}, "recipient": {"id": owner.id, "email": owner.email},
            "created_at": now, "updated_at": now}


async def create_transfer(request: Request, ctx: Ctx, user: User) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("app"), (str, dict)):
        raise invalid('Send {"app": NAME, "recipient": EMAIL}.', "app_transfer")
    name = body["app"].get("name") or body["app"].get("id") if isinstance(body["app"], dict) else body["app"]
    app = ctx.app(user, str(name))
    return JSONResponse(transfer(ctx, app, user, recipient_of(body.get("recipient")), keep_previous(body)),
                        status_code=201)


async def list_transfers(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse([])  # transfers complete at once: none is ever waiting to be accepted


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/account/app-transfers", endpoint(ctx, create_transfer), methods=["POST"]),
        Route("/account/app-transfers", endpoint(ctx, list_transfers), methods=["GET"]),
    ]
