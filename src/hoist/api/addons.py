"""/apps/{app}/addons, /addons/{addon}, addon-attachments and their resolve action (Heroku shapes)."""
from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.addons import plans
from hoist.api.addon_services import FREE, plan_id, service_id
from hoist.api.context import Ctx, endpoint, json_body, listing, release_headers
from hoist.api.errors import ApiError, invalid
from hoist.platform.addon_refs import not_found
from hoist.platform.addons import AddonManager
from hoist.platform.errors import PlatformError
from hoist.state import addons as addons_t
from hoist.state import apps as apps_t
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.users import User

_NS = uuid.UUID("6b1f3c52-2f9c-4d0e-9a57-0c1f1e4b7a10")


def manager(ctx: Ctx) -> AddonManager:
    return ctx.platform.addons


def addon_json(app: App, a: Addon) -> dict[str, Any]:
    return {
        "id": a.id, "name": a.name, "state": a.state, "config_vars": list(a.config_vars),
        "app": {"id": app.id, "name": app.name},
        "addon_service": {"id": service_id(a.service), "name": a.service},
        "plan": {"id": plan_id(a.service, a.plan), "name": f"{a.service}:{a.plan}", "price": FREE},
        "billing_entity": {"id": app.id, "name": app.name, "type": "app"},
        "billed_price": FREE,
        "provider_id": a.provider.get("database") or a.name, "actions": [], "web_url": None,
        "created_at": a.created_at, "updated_at": a.updated_at,
    }


def attachment_json(app: App, a: Addon, var: str) -> dict[str, Any]:
    """The attachment `var` belongs to, with all of its vars (Bigwig's _URL, _RX_URL and _TX_URL are one)."""
    name = plans.attachment_name(var)
    vars_ = plans.attachments(a.config_vars).get(name, [var])
    return {
        "id": str(uuid.uuid5(_NS, f"{a.id}:{name}")), "name": name, "namespace": None,
        "addon": {"id": a.id, "name": a.name, "app": {"id": app.id, "name": app.name},
                  "plan": {"name": f"{a.service}:{a.plan}"}},
        "app": {"id": app.id, "name": app.name}, "config_vars": vars_, "web_url": None, "log_input_url": None,
        "created_at": a.created_at, "updated_at": a.updated_at,
    }


def attachments(app: App, addons: list[Addon]) -> list[dict[str, Any]]:
    return [attachment_json(app, a, vars_[0]) for a in addons for vars_ in plans.attachments(a.config_vars).values()]


def plan_text(body: Any) -> str:
    plan = body.get("plan") if isinstance(body, dict) else None
    if isinstance(plan, dict):
        plan = plan.get("name") or plan.get("id")
    if not isinstance(plan, str) or not plan:
        raise invalid("Name a plan: {\"plan\": \"heroku-postgresql\"} or {\"plan\": {\"name\": "
                      "\"heroku-redis:mini\"}}.", "addon")
    return plan


async def list_addons(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return listing(request, manager(ctx).list(app), ["id", "name"], lambda a, f: getattr(a, f),
                   lambda a: addon_json(app, a))


async def create_addon(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    addon, made = await manager(ctx).create(app, user, plan_text(body))
    headers = release_headers(ctx, app, *made) if made else {}
    return JSONResponse(addon_json(app, addon), status_code=201, headers=headers)


async def get_app_addon(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(addon_json(app, manager(ctx).resolve(app, request.path_params["addon"])))


async def delete_addon(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    m = manager(ctx)
    gone, made = await m.destroy(app, m.resolve(app, request.path_params["addon"]), user)
    return JSONResponse(addon_json(app, gone), headers=release_headers(ctx, app, *made) if made else {})


def owned_addon(ctx: Ctx, user: User, ref: str) -> tuple[App, Addon]:
    """An add-on by its global name or id, visible only to who may see its app (same 404 otherwise)."""
    addon = addons_t.get_addon(ctx.platform.db, ref)
    app = apps_t.get_app(ctx.platform.db, addon.app_id) if addon else None
    if addon is None or app is None or not ctx.platform.can_access(user, app):
        raise ApiError(404, "not_found", f"Couldn't find that add-on: {ref!r}. Run `hoist addons` to list them.",
                       "addon")
    return app, addon


async def get_addon(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = owned_addon(ctx, user, request.path_params["addon"])
    return JSONResponse(addon_json(app, addon))


async def list_attachments(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(attachments(app, manager(ctx).list(app)))


async def resolve_attachment(request: Request, ctx: Ctx, user: User) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("addon_attachment"), str):
        raise invalid("Send {\"app\": APP, \"addon_attachment\": \"DATABASE\"} (an attachment, var or add-on "
                      "name).", "addon_attachment")
    ref = body["addon_attachment"]
    service = body.get("addon_service") if isinstance(body.get("addon_service"), str) else None
    if service:
        service = plans.SERVICE_ALIASES.get(service.split(":")[0], service)
    if isinstance(body.get("app"), str) and body["app"]:
        app = ctx.app(user, body["app"])
    else:
        app, addon = owned_addon(ctx, user, ref)
        return JSONResponse(attachments(app, [addon]))
    addons = [a for a in manager(ctx).list(app) if service is None or a.service == service]
    var = plans.var_for(ref)
    by_var = [attachment_json(app, a, var) for a in addons if var in a.config_vars]
    if by_var:
        return JSONResponse(by_var)
    by_name = attachments(app, [a for a in addons if ref in (a.name, a.id)])
    if by_name:
        return JSONResponse(by_name)
    err = not_found(ref, app.name)
    raise ApiError(err.status, err.id, err.message, "addon_attachment")


async def resolve_addon(request: Request, ctx: Ctx, user: User) -> Response:
    """POST /actions/addons/resolve {"addon", "app", "addon_service"}: the matching add-ons (addons:info uses it)."""
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("addon"), str) or not body["addon"]:
        raise invalid("Send {\"app\": APP, \"addon\": NAME} (an add-on name, id, attachment or var).", "add_on")
    ref = body["addon"].split("::")[-1]
    service = body.get("addon_service") if isinstance(body.get("addon_service"), str) else None
    if service:
        service = plans.SERVICE_ALIASES.get(service.split(":")[0], service)
    if isinstance(body.get("app"), str) and body["app"]:
        app = ctx.app(user, body["app"])
        try:
            addon = manager(ctx).resolve(app, ref, service)
        except PlatformError as err:
            raise ApiError(err.status, err.id, err.message, "add_on") from None
    else:
        try:
            app, addon = owned_addon(ctx, user, ref)
        except ApiError as err:
            raise ApiError(err.status, err.id, err.message, "add_on") from None
    return JSONResponse([addon_json(app, addon)])


async def addon_attachments(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = owned_addon(ctx, user, request.path_params["addon"])
    return JSONResponse(attachments(app, [addon]))


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/addons", endpoint(ctx, list_addons), methods=["GET"]),
        Route("/apps/{app}/addons", endpoint(ctx, create_addon), methods=["POST"]),
        Route("/apps/{app}/addons/{addon}", endpoint(ctx, get_app_addon), methods=["GET"]),
        Route("/apps/{app}/addons/{addon}", endpoint(ctx, delete_addon), methods=["DELETE"]),
        Route("/addons/{addon}", endpoint(ctx, get_addon), methods=["GET"]),
        Route("/apps/{app}/addon-attachments", endpoint(ctx, list_attachments), methods=["GET"]),
        Route("/actions/addon-attachments/resolve", endpoint(ctx, resolve_attachment, writes=False), methods=["POST"]),
        Route("/actions/addons/resolve", endpoint(ctx, resolve_addon, writes=False), methods=["POST"]),
        Route("/addons/{addon}/addon-attachments", endpoint(ctx, addon_attachments), methods=["GET"]),
    ]
