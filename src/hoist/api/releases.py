"""/apps/{app}/releases: list, info, and POST {"release": id} to roll back."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint, json_body, listing, release_headers
from hoist.api.errors import invalid, not_found
from hoist.state import apps as apps_t
from hoist.state import releases as releases_t
from hoist.state.users import User

FIELDS = ["version", "id", "created_at"]


def _current_version(ctx: Ctx, app_id: str) -> int | None:
    cur = releases_t.current_release(ctx.platform.db, app_id)
    return cur.version if cur else None


async def list_releases(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    cur = _current_version(ctx, app.id)
    items = releases_t.list_releases(ctx.platform.db, app.id)
    return listing(request, items, FIELDS, lambda r, f: getattr(r, f),
                   lambda r: serialize.release(ctx.platform, app, r, cur))


async def get_release(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    rel = releases_t.get_release(ctx.platform.db, app.id, request.path_params["release"])
    if rel is None:
        raise not_found("release", f"Couldn't find release {request.path_params['release']}; "
                        "run `hoist releases` to list them.")
    return JSONResponse(serialize.release(ctx.platform, app, rel, _current_version(ctx, app.id)))


async def rollback(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    target_id = body.get("release") if isinstance(body, dict) else None
    if not isinstance(target_id, (str, int)):
        raise invalid("Send {\"release\": ID_OR_VERSION} to roll back to that release.", "release")
    target = releases_t.get_release(ctx.platform.db, app.id, target_id)
    if target is None:
        raise not_found("release", f"Couldn't find release {target_id}; run `hoist releases` to list them.")
    rel, result = await ctx.platform.rollback(app, target, user)
    headers = release_headers(ctx, app, rel, result)
    return JSONResponse(serialize.release(ctx.platform, app, rel, _current_version(ctx, app.id)),
                        status_code=201, headers=headers)


async def release_config(request: Request, ctx: Ctx, user: User) -> Response:
    """The config vars as they were in that release (releases:info shows them)."""
    app = ctx.app(user, request.path_params["app"])
    rel = releases_t.get_release(ctx.platform.db, app.id, request.path_params["release"])
    if rel is None:
        raise not_found("release", f"Couldn't find release {request.path_params['release']}; "
                        "run `hoist releases` to list them.")
    return JSONResponse(rel.config)


async def release_output(request: Request, ctx: Ctx, user: None) -> Response:
    """A release phase's output at its signed URL (`output_stream_url`): no token, the signature is the key."""
    p = ctx.platform
    params = request.path_params
    app = apps_t.get_app(p.db, params["app"])
    rel = releases_t.get_release(p.db, app.id, params["release"]) if app else None
    path = p.paths.release_log(app.name, rel.id) if app and rel else None
    if app is None or rel is None or path is None or not path.exists() or \
            not p.signer.verify(params["sig"], "release-output", app.id, rel.id):
        raise not_found("release", "No release output at this URL; run `hoist releases:output -a APP` for a fresh one.")
    return PlainTextResponse(path.read_text(encoding="utf-8", errors="replace"))


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/releases", endpoint(ctx, list_releases), methods=["GET"]),
        Route("/apps/{app}/releases", endpoint(ctx, rollback), methods=["POST"]),
        Route("/apps/{app}/releases/{release}", endpoint(ctx, get_release), methods=["GET"]),
        Route("/apps/{app}/releases/{release}/config-vars", endpoint(ctx, release_config), methods=["GET"]),
        Route("/hoist/release-output/{app}/{release}/{sig}",
              endpoint(ctx, release_output, auth=False), methods=["GET"]),  # type: ignore[arg-type]
    ]
