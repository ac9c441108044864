"""POST /app-setups (create an app from a source tarball and its app.json in one step) and
GET /app-setups/{id} (how it went), in Heroku's shapes."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist import names
from hoist.api import serialize
from hoist.api.builds import source_blob
from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import ApiError, invalid, not_found
from hoist.api.urls import base_url
from hoist.platform.tarball import SourceError
from hoist.state import app_setups as setups_t
from hoist.state import apps as apps_t
from hoist.state import builds as builds_t
from hoist.state.app_setups import AppSetup
from hoist.state.users import User


def _app_name(body: dict[str, Any]) -> str | None:
    app = body.get("app")
    if app is None:
        return None
    if not isinstance(app, dict):
        raise invalid('app must be an object such as {"name": "notes"} (region and stack are ignored).', "app")
    name = app.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid("app.name must be a string.", "app")
    return name or None


def _env(body: dict[str, Any]) -> dict[str, str]:
    overrides = body.get("overrides") or {}
    env = overrides.get("env") if isinstance(overrides, dict) else None
    if not isinstance(overrides, dict) or not isinstance(env or {}, dict):
        raise invalid('overrides must look like {"env": {"KEY": "value"}}.', "app_setup")
    out: dict[str, str] = {}
    for key, value in (env or {}).items():
        try:
            names.config_key(key)
        except names.InvalidName as exc:
            raise invalid(f"overrides.env: {exc}", "app_setup") from None
        if not isinstance(value, str):
            raise invalid(f"overrides.env.{key} must be a string.", "app_setup")
        out[key] = value
    return out


def render(ctx: Ctx, request: Request, s: AppSetup) -> dict[str, Any]:
    p = ctx.platform
    app = apps_t.get_app(p.db, s.app_id)
    build = builds_t.get_build(p.db, s.app_id, s.build_id) if s.build_id and app else None
    shown = serialize.build(p, app, build, base_url(request, p.settings)) if app and build else None
    return {
        "id": s.id, "created_at": s.created_at, "updated_at": s.updated_at, "status": s.status,
        "failure_message": s.failure_message,
        "app": {"id": s.app_id, "name": app.name if app else None},
        "build": {k: shown[k] for k in ("id", "status", "output_stream_url")} if shown else None,
        "postdeploy": None if s.postdeploy_exit_code is None else
        {"output": s.postdeploy_output or "", "exit_code": s.postdeploy_exit_code},
        "manifest_errors": [], "resolved_success_url": None,
    }


async def create_setup(request: Request, ctx: Ctx, user: User) -> Response:
    p = ctx.platform
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid('Send {"source_blob": {"url": GET_URL}, "app": {"name": NAME}, "overrides": {"env": {}}}.',
                      "app_setup")
    name, env = _app_name(body), _env(body)
    url, checksum, version = source_blob(body)
    if name is not None and apps_t.get_app(p.db, name) is not None:
        raise invalid(f"Name {name} is already taken; choose another name or omit it to get a random one.", "app")
    try:  # the source is checked before the app exists: a bad URL leaves nothing behind
        blob = await p.sources.resolve(url)
        await p.sources.verify(blob, checksum)
    except SourceError as exc:
        raise invalid(str(exc), "source_blob") from None
    setup = ctx.setups.create(user, name, blob, checksum, version, env)
    return JSONResponse(render(ctx, request, setup), status_code=201)


async def get_setup(request: Request, ctx: Ctx, user: User) -> Response:
    s = setups_t.get(ctx.platform.db, request.path_params["setup"])
    try:
        if s is None:
            raise ApiError(404, "not_found", "")
        ctx.app(user, s.app_id)  # who may see the app may see its setup
    except ApiError:
        raise not_found("app_setup", f"Couldn't find app setup {request.path_params['setup']}.") from None
    return JSONResponse(render(ctx, request, s))


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/app-setups", endpoint(ctx, create_setup), methods=["POST"]),
        Route("/app-setups/{setup}", endpoint(ctx, get_setup), methods=["GET"]),
    ]
