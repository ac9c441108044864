"""Dataclips: /apps/{app}/dataclips (authenticated) and the secret URLs /dataclips/{secret}[.csv|.json]
(no API auth: the secret is the credential, so spreadsheets' IMPORTDATA can fetch them)."""
from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hoist.addons.postgres import dataclips as pgclips
from hoist.addons.postgres.errors import PostgresError
from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid
from hoist.state import addons as addons_t
from hoist.state import dataclips as clips_t
from hoist.state.dataclips import Dataclip
from hoist.state.users import User

NOT_FOUND = "No such dataclip. Check the URL, or list your dataclips with `hoist dataclips`.\n"


def clip_json(ctx: Ctx, clip: Dataclip) -> dict[str, Any]:
    addon = addons_t.get_addon(ctx.platform.db, clip.addon_id)
    url = ctx.platform.dataclips.url(clip)
    return {"id": clip.id, "name": clip.name, "sql": clip.sql, "created_at": clip.created_at,
            "addon": {"id": clip.addon_id, "name": addon.name if addon else None},
            "url": url, "csv_url": url + ".csv", "json_url": url + ".json"}


async def list_clips(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse([clip_json(ctx, c) for c in ctx.platform.dataclips.list(app)])


async def create_clip(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not isinstance(body.get("sql"), str):
        raise invalid("Send {\"name\": NAME, \"sql\": \"SELECT ...\"} (and optionally \"addon\").", "dataclip")
    clip = ctx.platform.dataclips.create(app, body["name"], body["sql"], str(body.get("addon") or "DATABASE_URL"))
    return JSONResponse(clip_json(ctx, clip), status_code=201)


async def delete_clip(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    clip = ctx.platform.dataclips.delete(app, request.path_params["clip"])
    return JSONResponse(clip_json(ctx, clip))


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}th{{background:#f3f3f3}}
.error{{color:#a00}}</style></head><body><h1>{title}</h1>{body}</body></html>
"""


async def serve_clip(request: Request, ctx: Ctx, user: None) -> Response:
    secret, _, fmt = request.path_params["secret"].partition(".")
    clip = clips_t.find_by_secret(ctx.platform.db, secret) if fmt in ("", "csv", "json") else None
    if clip is None:
        return PlainTextResponse(NOT_FOUND, status_code=404)
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    try:
        columns, rows = await ctx.platform.dataclips.run(clip)
    except PostgresError as exc:
        if fmt == "json":
            return JSONResponse({"id": "query_failed", "message": str(exc)}, status_code=422, headers=headers)
        if fmt == "csv":
            return PlainTextResponse(str(exc) + "\n", status_code=422, headers=headers)
        return HTMLResponse(_PAGE.format(title=html.escape(clip.name),
                                         body=f'<p class="error">{html.escape(str(exc))}</p>'),
                            status_code=422, headers=headers)
    if fmt == "csv":
        return Response(pgclips.to_csv(columns, rows), media_type="text/csv; charset=utf-8", headers=headers)
    if fmt == "json":
        return Response(pgclips.to_json(columns, rows), media_type="application/json", headers=headers)
    return HTMLResponse(_PAGE.format(title=html.escape(clip.name), body=pgclips.to_html_table(columns, rows)),
                        headers=headers)


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/dataclips", endpoint(ctx, list_clips), methods=["GET"]),
        Route("/apps/{app}/dataclips", endpoint(ctx, create_clip), methods=["POST"]),
        Route("/apps/{app}/dataclips/{clip}", endpoint(ctx, delete_clip), methods=["DELETE"]),
        Route("/dataclips/{secret}", endpoint(ctx, serve_clip, auth=False), methods=["GET"]),  # type: ignore[arg-type]
    ]
