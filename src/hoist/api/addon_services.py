"""GET /addon-services and /addon-services/{service}/plans (Heroku shapes): what `addons:services` and
`addons:plans` list, for hoist's CLI and the heroku CLI alike. Every plan is free: it is your machine."""
from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.addons import plans
from hoist.api.context import Ctx, endpoint
from hoist.api.errors import not_found
from hoist.state.users import User

_NS = uuid.UUID("6b1f3c52-2f9c-4d0e-9a57-0c1f1e4b7a10")
# The first two kept the ids they were given before services were listed.
_FIXED_IDS = {plans.POSTGRES: "6c67493d-8fc2-4cd4-9161-4f1ec11cbe69", plans.REDIS: "4b7b5c4b-5c0c-4b3f-8a9d-0c7d8f8e2f11"}
_EPOCH = "2024-01-01T00:00:00Z"
FREE = {"cents": 0, "contract": False, "unit": "month"}


def service_id(name: str) -> str:
    return _FIXED_IDS.get(name) or str(uuid.uuid5(_NS, f"service:{name}"))


def plan_id(service: str, plan: str) -> str:
    return str(uuid.uuid5(_NS, f"{service}:{plan}"))


def service_json(s: plans.Service) -> dict[str, Any]:
    return {"id": service_id(s.name), "name": s.name, "human_name": s.human_name, "state": "ga",
            "cli_plugin_name": None, "supports_multiple_installations": not s.one_per_app,
            "supports_sharing": False, "created_at": _EPOCH, "updated_at": _EPOCH}


def plan_json(s: plans.Service, plan: str) -> dict[str, Any]:
    return {"id": plan_id(s.name, plan), "name": f"{s.name}:{plan}", "human_name": plan.replace("-", " ").title(),
            "default": plan == s.default_plan, "price": FREE, "state": "public", "compliance": None,
            "description": f"{s.human_name}: {plan}", "addon_service": {"id": service_id(s.name), "name": s.name},
            "installable_inside_private_network": False, "installable_outside_private_network": True,
            "space_default": False, "visible": True, "created_at": _EPOCH, "updated_at": _EPOCH}


def _find(ref: str) -> plans.Service:
    for s in plans.SERVICES:
        if ref == service_id(s.name):
            return s
    try:
        return plans.service(ref)
    except plans.PlanError as exc:
        raise not_found("addon_service", str(exc)) from None


async def list_services(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse([service_json(s) for s in plans.SERVICES])


async def get_service(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(service_json(_find(request.path_params["service"])))


async def list_plans(request: Request, ctx: Ctx, user: User) -> Response:
    s = _find(request.path_params["service"])
    return JSONResponse([plan_json(s, p) for p in s.plans])


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/addon-services", endpoint(ctx, list_services), methods=["GET"]),
        Route("/addon-services/{service}", endpoint(ctx, get_service), methods=["GET"]),
        Route("/addon-services/{service}/plans", endpoint(ctx, list_plans), methods=["GET"]),
    ]
