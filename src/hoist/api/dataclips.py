"""Dataclips: /apps/{app}/dataclips (authenticated) and the secret URLs /dataclips/{secret}[.csv|.json]
(no API auth: the secret is the credential, so spreadsheets' IMPORTDATA can fetch them)."""
from __future__ import annotations

import asyncio
import html
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hoist.addons import plans
from hoist.addons.postgres import dataclips as pgclips
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.sqlcheck import precheck
from hoist.api.addons import manager
from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import ApiError, invalid
from hoist.state import addons as addons_t
from hoist.state import dataclips as clips_t
from hoist.state.dataclips import Dataclip
from hoist.state.users import User

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,59}$")
MAX_SQL = 100_000
NOT_FOUND = "No such dataclip. Check the URL, or list your dataclips with `hoist dataclips`.\n"


def clip_url(ctx: Ctx, clip: Dataclip) -> str:
    s = ctx.platform.settings
    return f"http://{s.domain or 'localhost'}:{s.port}/dataclips/{clip.token}"


def clip_json(ctx: Ctx, clip: Dataclip) -> dict[str, Any]:
    addon = addons_t.get_addon(ctx.platform.db, clip.addon_id)
    url = clip_url(ctx, clip)
    return {"id": clip.id, "name": clip.name, "sql": clip.sql, "created_at": clip.created_at,
            "addon": {"id": clip.addon_id, "name": addon.name if addon else None},
            "url": url, "csv_url": url + ".csv", "json_url": url + ".json"}


async def run_clip(ctx: Ctx, clip: Dataclip) -> tuple[list[str], list[tuple[Any, ...]]]:
    addon = addons_t.get_addon(ctx.platform.db, clip.addon_id)
    if addon is None:
        raise PostgresError("the dataclip's database was destroyed; create the dataclip again on another one")
    admin = await manager(ctx).pg.admin_url()
    return await asyncio.to_thread(pgclips.run, admin, str(addon.provider["database"]), clip.sql,
                                   ctx.platform.settings.dataclip_timeout)


async def list_clips(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse([clip_json(ctx, c) for c in clips_t.list_dataclips(ctx.platform.db, app.id)])


async def create_clip(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not isinstance(body.get("sql"), str):
        raise invalid("Send {\"name\": NAME, \"sql\": \"SELECT ...\"} (and optionally \"addon\").", "dataclip")
    name, sql = body["name"].strip(), body["sql"]
    if not NAME_RE.match(name):
        raise invalid(f"{name!r} is not a dataclip name: use up to 60 letters, digits, spaces, '.', '_' or '-'.",
                      "dataclip")
    if len(sql) > MAX_SQL:
        raise invalid("the query is over 100 kB; shorten it.", "dataclip")
    try:
        precheck(sql)
    except PostgresError as exc:
        raise invalid(str(exc), "dataclip") from None
    addon = manager(ctx).resolve(app, str(body.get("addon") or "DATABASE_URL"), plans.POSTGRES)
    try:
        clip = clips_t.create_dataclip(ctx.platform.db, app.id, addon.id, name, sql)
    except clips_t.DataclipNameTaken:
        raise invalid(f"{app.name} already has a dataclip named {name!r}; choose another name or destroy it "
                      "first.", "dataclip") from None
    return JSONResponse(clip_json(ctx, clip), status_code=201)


async def delete_clip(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    clip = clips_t.get_dataclip(ctx.platform.db, app.id, request.path_params["clip"])
    if clip is None:
        raise ApiError(404, "not_found", f"{app.name} has no dataclip {request.path_params['clip']!r}; list them "
                       "with `hoist dataclips`.", "dataclip")
    clips_t.delete_dataclip(ctx.platform.db, clip.id)
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
        columns, rows = await run_clip(ctx, clip)
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
