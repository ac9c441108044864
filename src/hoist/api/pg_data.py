"""The parts of Heroku's Postgres data API (api.data.heroku.com) that the heroku CLI's everyday pg commands
call, served from hoist's own Postgres add-ons. Point the CLI here with HEROKU_DATA_HOST=<the HEROKU_HOST host>.

  GET  /client/v11/databases/{addon}                         pg:info
  PUT  /client/v11/databases/{addon}/reset                   pg:reset
  POST /client/v11/databases/{addon}/backups                 pg:backups:capture
  GET  /client/v11/apps/{app}/transfers[/{num or uuid}]      pg:backups, capture's progress
  POST /client/v11/apps/{app}/transfers/{num}/actions/public-url   pg:backups:download/url (an https URL)
  GET  /postgres/v0/databases/{addon}/credentials/{name}     pg:credentials:url (only "default")
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from hoist.addons import plans
from hoist.api.addons import manager, owned_addon
from hoist.api.context import Ctx, endpoint
from hoist.api.errors import ApiError, invalid, not_found
from hoist.api.pg import backups
from hoist.state import backups as backups_t
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.backups import Backup
from hoist.state.users import User

URL_TTL = 600.0  # seconds a backup's public URL works (Heroku's last 10 minutes too)


def human_size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def transfer_json(app: App, b: Backup) -> dict[str, Any]:
    """A backup as a Heroku transfer (pg_dump -> gof3r, the storage upload)."""
    done = b.status != "running"
    return {"uuid": b.id, "num": b.num, "from_name": b.addon_name, "from_type": "pg_dump", "to_name": "BACKUP",
            "to_type": "gof3r", "options": {}, "source_bytes": b.size, "processed_bytes": b.size,
            "succeeded": b.status == "completed", "warnings": 0, "schedule": {"name": "hoist"}
            if b.source == "scheduled" else None, "created_at": b.created_at, "started_at": b.created_at,
            "finished_at": (b.finished_at or b.created_at) if done else None, "updated_at": b.finished_at or b.created_at,
            "canceled_at": None, "deleted_at": None, "app": {"id": app.id, "name": app.name},
            "logs": [{"created_at": b.finished_at or b.created_at, "message": b.message}] if b.message else []}


def _pg_addon(ctx: Ctx, user: User, ref: str) -> tuple[App, Addon]:
    app, addon = owned_addon(ctx, user, ref)
    if addon.service != plans.POSTGRES:
        raise not_found("addon", f"{addon.name} is a {addon.service} add-on, not a Postgres database.")
    return app, addon


async def database(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _pg_addon(ctx, user, request.path_params["addon"])
    m = manager(ctx)
    details = await m.info(app, addon)
    sched = backups_t.get_schedule(ctx.platform.db, addon.id)
    rows = [("Plan", addon.plan), ("Status", "Available"), ("Data Size", human_size(details["size_bytes"])),
            ("Tables", str(details["table_count"])), ("Rows", f"~{details['rows_estimate']}"),
            ("PG Version", details["server_version"]), ("Connections", str(details["connection_count"])),
            ("Created", addon.created_at), ("Continuous Protection", "Off"),
            ("Backups", f"daily at {sched.at} UTC, keeping {sched.keep}" if sched else "none scheduled")]
    return JSONResponse({"addon_id": addon.id, "name": addon.name, "plan": addon.plan, "resource_url": m.url(app, addon),
                         "database_name": details["database"], "created_at": addon.created_at, "following": None,
                         "leader": None, "info": [{"name": k, "values": [v]} for k, v in rows]})


async def reset(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _pg_addon(ctx, user, request.path_params["addon"])
    await manager(ctx).reset(app, addon, user)
    return JSONResponse({"message": f"{addon.name} was reset"})


async def capture(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _pg_addon(ctx, user, request.path_params["addon"])
    b = await backups(ctx).capture(app, addon)  # synchronous: the transfer is finished when this answers
    return JSONResponse(transfer_json(app, b), status_code=201)


async def transfers(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse([transfer_json(app, b) for b in backups_t.list_backups(ctx.platform.db, app.id)])


def _transfer(ctx: Ctx, user: User, request: Request) -> tuple[App, Backup]:
    app = ctx.app(user, request.path_params["app"])
    ref = request.path_params["transfer"]
    b = backups_t.get_backup(ctx.platform.db, app.id, ref)
    if b is None:
        raise not_found("transfer", f"Couldn't find backup {ref!r} of {app.name}; list them with "
                        f"`heroku pg:backups -a {app.name}`.")
    return app, b


async def transfer(request: Request, ctx: Ctx, user: User) -> Response:
    app, b = _transfer(ctx, user, request)
    return JSONResponse(transfer_json(app, b))


async def credentials(request: Request, ctx: Ctx, user: User) -> Response:
    app, addon = _pg_addon(ctx, user, request.path_params["addon"])
    name = request.path_params["name"]
    if name != "default":
        raise not_found("credential", f"hoist databases have one credential, 'default'; {name!r} does not exist.")
    url = urlsplit(manager(ctx).url(app, addon))
    return JSONResponse({"uuid": addon.id, "name": "default", "state": "active", "database": url.path.lstrip("/"),
                         "host": url.hostname, "port": url.port or 5432,
                         "credentials": [{"user": unquote(url.username or ""),
                                          "password": unquote(url.password or ""), "state": "active"}]})


@dataclass
class Downloads:
    """Short-lived secret URLs for backup files: the CLI fetches them without its token, over https."""
    ctx: Ctx
    urls: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # secret -> (app id, backup id, expiry)

    async def public_url(self, request: Request, ctx: Ctx, user: User) -> Response:
        app, b = _transfer(ctx, user, request)
        if b.status != "completed":
            raise invalid(f"backup {b.name} {b.status}; download a completed backup.", "transfer")
        now = time.monotonic()
        self.urls = {k: v for k, v in self.urls.items() if v[2] > now}
        secret = secrets.token_urlsafe(32)
        self.urls[secret] = (app.id, b.id, now + URL_TTL)
        host = urlsplit(f"//{request.headers.get('host') or 'localhost'}").hostname or "localhost"
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + URL_TTL))
        url = f"https://{host}:{ctx.platform.settings.tls_port}/hoist/backup-downloads/{secret}"
        return JSONResponse({"url": url, "expires_at": expires, "num": b.num})

    async def serve(self, request: Request, ctx: Ctx, user: None) -> Response:
        entry = self.urls.get(request.path_params["secret"])
        if entry is None or entry[2] < time.monotonic():
            raise ApiError(404, "not_found", "This backup URL is unknown or expired; ask for a new one with "
                           "`heroku pg:backups:url`.", "transfer")
        b = backups_t.get_backup(ctx.platform.db, entry[0], entry[1])
        if b is None:
            raise ApiError(404, "not_found", "That backup was deleted.", "transfer")
        return FileResponse(b.path, media_type="application/octet-stream", filename=f"{b.name}.dump")


def routes(ctx: Ctx) -> list[Route]:
    dl = Downloads(ctx)
    return [
        Route("/client/v11/databases/{addon}", endpoint(ctx, database), methods=["GET"]),
        Route("/client/v11/databases/{addon}/reset", endpoint(ctx, reset), methods=["PUT"]),
        Route("/client/v11/databases/{addon}/backups", endpoint(ctx, capture), methods=["POST"]),
        Route("/client/v11/apps/{app}/transfers", endpoint(ctx, transfers), methods=["GET"]),
        Route("/client/v11/apps/{app}/transfers/{transfer}", endpoint(ctx, transfer), methods=["GET"]),
        Route("/client/v11/apps/{app}/transfers/{transfer}/actions/public-url", endpoint(ctx, dl.public_url),
              methods=["POST"]),
        Route("/hoist/backup-downloads/{secret}", endpoint(ctx, dl.serve, auth=False),  # type: ignore[arg-type]
              methods=["GET"]),
        Route("/postgres/v0/databases/{addon}/credentials/{name}", endpoint(ctx, credentials), methods=["GET"]),
    ]
