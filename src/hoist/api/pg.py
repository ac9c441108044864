"""hoist's Postgres endpoints (no Heroku equivalent in the Platform API; the CLI's pg:* commands use them).

Per add-on (ADDON = name, id, DATABASE, DATABASE_URL or HEROKU_POSTGRESQL_<COLOR>_URL):
  GET  /apps/{app}/addons/{addon}/pg/info
  POST /apps/{app}/addons/{addon}/pg/credentials/rotate
  POST /apps/{app}/addons/{addon}/pg/reset
  POST /apps/{app}/addons/{addon}/pg/promote
  POST /apps/{app}/addons/{addon}/pg/backups                capture now
  GET/PUT/DELETE /apps/{app}/addons/{addon}/pg/backup-schedule   {"at": "HH:MM", "keep": N} (UTC)
Per app:
  GET  /apps/{app}/pg/backups                               all backups, oldest first
  GET  /apps/{app}/pg/backups/{backup}                      b001 or id
  GET  /apps/{app}/pg/backups/{backup}/download             the pg_dump (custom format) file
  POST /apps/{app}/pg/backups/{backup}/restore              {"addon": "DATABASE_URL", "confirm": APP}
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from hoist.api.addons import addon_json, manager
from hoist.api.context import Ctx, endpoint, json_body, release_headers
from hoist.api.errors import ApiError, invalid
from hoist.platform.pgbackups import Backups
from hoist.state import backups as backups_t
from hoist.state.apps import App
from hoist.state.backups import Backup, Schedule
from hoist.state.users import User


def backup_json(b: Backup) -> dict[str, Any]:
    return {"id": b.id, "name": b.name, "num": b.num, "addon": {"id": b.addon_id, "name": b.addon_name},
            "size": b.size, "status": b.status, "source": b.source, "message": b.message,
            "created_at": b.created_at, "finished_at": b.finished_at}


def schedule_json(s: Schedule, addon_name: str) -> dict[str, Any]:
    return {"addon": {"id": s.addon_id, "name": addon_name}, "at": s.at, "timezone": "UTC", "keep": s.keep,
            "next_run": s.next_run}


def backups(ctx: Ctx) -> Backups:
    return manager(ctx).backups


def _backup(ctx: Ctx, app: App, ref: str) -> Backup:
    b = backups_t.get_backup(ctx.platform.db, app.id, ref)
    if b is None:
        raise ApiError(404, "not_found", f"Couldn't find backup {ref!r} of {app.name}; list them with "
                       f"`hoist pg:backups -a {app.name}`.", "backup")
    return b


def _scope(request: Request, ctx: Ctx, user: User) -> tuple[App, Any]:
    app = ctx.app(user, request.path_params["app"])
    return app, manager(ctx).resolve(app, request.path_params["addon"])


async def info(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _scope(request, ctx, user)
    details = await manager(ctx).info(app, addon)
    sched = backups_t.get_schedule(ctx.platform.db, addon.id)
    return JSONResponse({**addon_json(app, addon), "info": details,
                         "backup_schedule": schedule_json(sched, addon.name) if sched else None})


async def rotate(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _scope(request, ctx, user)
    made = await manager(ctx).rotate(app, addon, user)
    return JSONResponse(addon_json(app, addon), headers=release_headers(ctx, app, *made))


async def reset(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _scope(request, ctx, user)
    await manager(ctx).reset(app, addon, user)
    return JSONResponse(addon_json(app, addon))


async def promote(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _scope(request, ctx, user)
    made = await manager(ctx).promote(app, addon, user)
    return JSONResponse(addon_json(app, manager(ctx).resolve(app, addon.id)), headers=release_headers(ctx, app, *made))


async def capture(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _scope(request, ctx, user)
    b = await backups(ctx).capture(app, addon)
    if b.status != "completed":
        raise ApiError(503, "backup_failed", f"backup {b.name} failed: {b.message}", "backup")
    return JSONResponse(backup_json(b), status_code=201)


async def list_backups(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse([backup_json(b) for b in backups_t.list_backups(ctx.platform.db, app.id)])


async def get_backup(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(backup_json(_backup(ctx, app, request.path_params["backup"])))


async def download(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    b = _backup(ctx, app, request.path_params["backup"])
    if b.status != "completed":
        raise invalid(f"backup {b.name} {b.status}; download a completed backup.", "backup")
    return FileResponse(b.path, media_type="application/octet-stream", filename=f"{app.name}-{b.name}.dump")


async def restore(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    b = _backup(ctx, app, request.path_params["backup"])
    body = await json_body(request)
    body = body if isinstance(body, dict) else {}
    if body.get("confirm") != app.name:
        raise invalid(f"restoring replaces everything in the database; confirm with {{\"confirm\": "
                      f"\"{app.name}\"}} (CLI: --confirm {app.name}).", "backup")
    target = manager(ctx).resolve(app, str(body.get("addon") or "DATABASE_URL"))
    await backups(ctx).restore(app, b, target)
    return JSONResponse({**backup_json(b), "restored_into": {"id": target.id, "name": target.name}})


async def get_schedule(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _scope(request, ctx, user)
    sched = backups_t.get_schedule(ctx.platform.db, addon.id)
    if sched is None:
        raise ApiError(404, "not_found", f"{addon.name} has no backup schedule; add one with "
                       "`hoist pg:backups:schedule --at 02:00`.", "schedule")
    return JSONResponse(schedule_json(sched, addon.name))


async def put_schedule(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _scope(request, ctx, user)
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("at"), str):
        raise invalid("Send {\"at\": \"HH:MM\", \"keep\": N} (UTC, 24-hour clock).", "schedule")
    try:
        keep = int(body.get("keep", 7))
    except (TypeError, ValueError):
        raise invalid("keep must be a whole number of backups to keep.", "schedule") from None
    sched = backups(ctx).schedule(addon, body["at"], keep)
    return JSONResponse(schedule_json(sched, addon.name))


async def delete_schedule(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _scope(request, ctx, user)
    backups(ctx).unschedule(addon)
    return JSONResponse({"addon": {"id": addon.id, "name": addon.name}})


def routes(ctx: Ctx) -> list[Route]:
    per_addon = "/apps/{app}/addons/{addon}/pg"
    return [
        Route(per_addon + "/info", endpoint(ctx, info), methods=["GET"]),
        Route(per_addon + "/credentials/rotate", endpoint(ctx, rotate), methods=["POST"]),
        Route(per_addon + "/reset", endpoint(ctx, reset), methods=["POST"]),
        Route(per_addon + "/promote", endpoint(ctx, promote), methods=["POST"]),
        Route(per_addon + "/backups", endpoint(ctx, capture), methods=["POST"]),
        Route(per_addon + "/backup-schedule", endpoint(ctx, get_schedule), methods=["GET"]),
        Route(per_addon + "/backup-schedule", endpoint(ctx, put_schedule), methods=["PUT"]),
        Route(per_addon + "/backup-schedule", endpoint(ctx, delete_schedule), methods=["DELETE"]),
        Route("/apps/{app}/pg/backups", endpoint(ctx, list_backups), methods=["GET"]),
        Route("/apps/{app}/pg/backups/{backup}", endpoint(ctx, get_backup), methods=["GET"]),
        Route("/apps/{app}/pg/backups/{backup}/download", endpoint(ctx, download), methods=["GET"]),
        Route("/apps/{app}/pg/backups/{backup}/restore", endpoint(ctx, restore), methods=["POST"]),
    ]
