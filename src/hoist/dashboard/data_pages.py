"""The app's data tab: each Postgres add-on's info, backups (capture, download, restore after the
app's name is typed) and credential rotation, and dataclips (run a query, save it, copy its secret
URLs, delete it). The same platform operations as the API's pg and dataclips endpoints: the same
read-only role, time limit and row limit for every query."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from hoist.addons import plans
from hoist.addons.postgres.errors import PostgresError
from hoist.dashboard.auth import Refused, read_form, to_login
from hoist.dashboard.core import Action, Dashboard
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session
from hoist.platform.control import Platform
from hoist.platform.errors import PlatformError
from hoist.state import backups as backups_t
from hoist.state.apps import App
from hoist.state.users import User

MAX_SHOWN = 500  # rows of a run shown on the page (the saved dataclip serves up to the platform's limit)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


async def data_view(p: Platform, app: App) -> dict[str, Any]:
    databases = []
    for addon in p.addons.list(app):
        if plans.kind(addon.service) != plans.POSTGRES:
            continue
        try:
            info: dict[str, Any] = await p.addons.info(app, addon)
            error = ""
        except PlatformError as exc:
            info, error = {}, exc.message
        sched = backups_t.get_schedule(p.db, addon.id)
        databases.append({"name": addon.name, "plan": addon.plan, "vars": ", ".join(addon.config_vars),
                          "info": info, "size": _size(int(info.get("size_bytes", 0))), "error": error,
                          "schedule": f"daily at {sched.at} UTC, keeping {sched.keep}" if sched else ""})
    backups = [{"name": b.name, "addon": b.addon_name, "status": b.status, "size": _size(b.size),
                "created_at": b.created_at, "message": b.message}
               for b in reversed(backups_t.list_backups(p.db, app.id))]
    clips = []
    for c in p.dataclips.list(app):
        url = p.dataclips.url(c)
        clips.append({"id": c.id, "name": c.name, "sql": c.sql, "html": url, "csv": url + ".csv",
                      "json": url + ".json", "formula": f'=IMPORTDATA("{url}.csv")', "created_at": c.created_at})
    return {"databases": databases, "backups": backups, "clips": clips}


class DataPages:
    def __init__(self, d: Dashboard) -> None:
        self.d = d
        self.platform = d.platform

    async def _render(self, request: Request, session: Session, user: User, app: App, **extra: Any) -> Response:
        extra.setdefault("query", {"name": "", "sql": "SELECT 1 AS one", "columns": None, "rows": [], "error": "",
                                   "more": 0})
        return self.d.render_app("data.html", request, session, user, app, "Data",
                                 data=await data_view(self.platform, app), **extra)

    async def page(self, request: Request, session: Session, user: User) -> Response:
        return await self._render(request, session, user, self.d.app_of(request, user))

    async def run(self, request: Request) -> Response:
        """Run a query without saving it and show the result on the page (nothing changes: no redirect)."""
        found = self.d.gate.current(request)
        if found is None:
            return to_login(request)
        session, user = found
        try:
            form = await read_form(request)
            self.d.gate.check_post(request, session, form.get("csrf"))
            app = self.d.app_of(request, user)
        except Refused as exc:
            return self.d.error(exc.status, exc.message, found)
        except PlatformError as exc:
            return self.d.error(exc.status, exc.message, found)
        sql, name = form.get("sql", ""), form.get("name", "")
        query: dict[str, Any] = {"name": name, "sql": sql, "columns": None, "rows": [], "error": "", "more": 0}
        try:
            columns, rows = await self.platform.dataclips.preview(app, sql)
            query |= {"columns": columns, "rows": rows[:MAX_SHOWN], "more": max(0, len(rows) - MAX_SHOWN)}
        except PlatformError as exc:
            query["error"] = exc.message
        except PostgresError as exc:
            query["error"] = str(exc)
        return await self._render(request, session, user, app, query=query)

    async def clip_save(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        clip = self.platform.dataclips.create(app, form.get("name", ""), form.get("sql", ""))
        return f"Saved dataclip {clip.name!r}: its CSV is at {self.platform.dataclips.url(clip)}.csv"

    async def clip_delete(self, request: Request, session: Session, user: User, app: App,
                          form: dict[str, str]) -> str:
        clip = self.platform.dataclips.delete(app, form.get("clip", ""))
        return f"Deleted dataclip {clip.name!r}; its URLs no longer answer."

    async def capture(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        addon = self.platform.addons.resolve(app, form.get("addon", "DATABASE_URL"), plans.POSTGRES)
        b = await self.platform.addons.backups.capture(app, addon)
        if b.status != "completed":
            return f"Backup {b.name} of {addon.name} failed: {b.message}"
        return f"Captured backup {b.name} of {addon.name} ({_size(b.size)})."

    async def restore(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        b = backups_t.get_backup(self.platform.db, app.id, form.get("backup", ""))
        if b is None:
            return f"There is no backup {form.get('backup')!r}; pick one from the list."
        if form.get("confirm", "").strip() != app.name:
            return (f"Restoring replaces everything in the database: type the app's name, {app.name}, to confirm. "
                    "Nothing was restored.")
        target = self.platform.addons.resolve(app, form.get("addon") or "DATABASE_URL", plans.POSTGRES)
        await self.platform.addons.backups.restore(app, b, target)
        return f"Restored {b.name} into {target.name}."

    async def rotate(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        addon = self.platform.addons.resolve(app, form.get("addon", ""), plans.POSTGRES)
        await self.platform.addons.rotate(app, addon, user)
        return f"Rotated the credentials of {addon.name}: {', '.join(addon.config_vars)} changed (a new release)."

    async def schedule(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        addon = self.platform.addons.resolve(app, form.get("addon", ""), plans.POSTGRES)
        if form.get("remove"):
            self.platform.addons.backups.unschedule(addon)
            return f"Removed the backup schedule of {addon.name}."
        keep = form.get("keep", "7").strip()
        if not keep.isdigit():
            return f"Keep {keep!r} is not a whole number of backups; enter 1 to 30."
        sched = self.platform.addons.backups.schedule(addon, form.get("at", "").strip(), int(keep))
        return f"Scheduled daily backups of {addon.name} at {sched.at} UTC, keeping {sched.keep}."

    async def download(self, request: Request, session: Session, user: User) -> Response:
        app = self.d.app_of(request, user)
        b = backups_t.get_backup(self.platform.db, app.id, request.path_params["backup"])
        if b is None or b.status != "completed":
            raise Refused(404, "There is no completed backup by that name; the Data tab lists them.")
        return FileResponse(b.path, media_type="application/octet-stream", filename=f"{app.name}-{b.name}.dump",
                            headers={"Cache-Control": "no-store"})


def routes(d: Dashboard) -> list[Route]:
    x = DataPages(d)
    app = PREFIX + "/apps/{app}"
    actions: list[tuple[str, Action]] = [("/dataclips", x.clip_save), ("/dataclips/delete", x.clip_delete),
                                         ("/backups", x.capture), ("/backups/restore", x.restore),
                                         ("/credentials/rotate", x.rotate), ("/backups/schedule", x.schedule)]
    return ([Route(app + "/data", d.page(x.page), methods=["GET"]),
             Route(app + "/data/run", x.run, methods=["POST"]),
             Route(app + "/backups/{backup}/download", d.page(x.download), methods=["GET"])]
            + [Route(app + path, d.action(handler, "/data"), methods=["POST"]) for path, handler in actions])
