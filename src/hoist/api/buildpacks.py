"""/apps/{app}/buildpack-installations (GET, PUT) and the buildpack registry lookup the heroku CLI makes
first (`HEROKU_BUILDPACK_REGISTRY_URL`), so `heroku buildpacks` and `buildpacks:set heroku/python`
answer as on Heroku; any other buildpack is refused with what to do."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid, not_found
from hoist.platform import buildpacks as bp
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.users import User


def _listing(app: App, names: list[str]) -> list[dict[str, Any]]:
    return [{"buildpack": {"url": n, "name": n}, "ordinal": i, "app": {"id": app.id, "name": app.name}}
            for i, n in enumerate(names)]


async def list_installations(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    built = releases_t.latest_slug_release(ctx.platform.db, app.id) is not None
    return JSONResponse(_listing(app, bp.installed(ctx.platform.paths.buildpacks(app.name), built)))


async def set_installations(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    updates = body.get("updates") if isinstance(body, dict) else None
    if not isinstance(updates, list) or not all(isinstance(u, dict) and isinstance(u.get("buildpack"), str)
                                                for u in updates):
        raise invalid("Send {\"updates\": [{\"buildpack\": \"heroku/python\"}]} (an empty list clears them).",
                      "buildpack")
    chosen = bp.normalize([u["buildpack"] for u in updates])
    bp.choose(ctx.platform.paths.buildpacks(app.name), chosen)
    ctx.platform.audit(app, user, "buildpacks", ", ".join(chosen) or "cleared")
    return JSONResponse(_listing(app, chosen))


async def registry_lookup(request: Request, ctx: Ctx, user: None) -> Response:
    """What buildpack-registry.heroku.com answers for a buildpack name: where its tarball is."""
    slug = request.path_params["slug"]
    if not bp.valid_slug(slug):
        raise not_found("buildpack", f"{slug!r} is not a buildpack name (namespace/name, e.g. heroku/python).")
    namespace, name = slug.split("/", 1)
    return JSONResponse({"name": name, "namespace": namespace, "blob_url": bp.registry_url(slug)})


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/buildpack-installations", endpoint(ctx, list_installations), methods=["GET"]),
        Route("/apps/{app}/buildpack-installations", endpoint(ctx, set_installations), methods=["PUT"]),
        Route("/buildpack-registry/buildpacks/{slug:path}", endpoint(ctx, registry_lookup, auth=False),  # type: ignore[arg-type]
              methods=["GET"]),
    ]
