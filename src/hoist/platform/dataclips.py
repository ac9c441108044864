"""Dataclips: read-only queries of an app's Postgres database, saved under a name and served at a
secret URL (HTML, .csv, .json). The API and the dashboard both act through this class, so a query
is checked, limited and run the same way whoever asks: as the database's read-only role, in a
read-only transaction, with HOIST_DATACLIP_TIMEOUT and a row limit (addons/postgres/dataclips.py)."""
from __future__ import annotations

import asyncio
import re
from typing import Any

from hoist.addons import plans
from hoist.addons.postgres import dataclips as pgclips
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.sqlcheck import precheck
from hoist.platform.addons import AddonManager
from hoist.platform.errors import PlatformError
from hoist.settings import Settings
from hoist.state import addons as addons_t
from hoist.state import dataclips as clips_t
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.dataclips import Dataclip
from hoist.state.db import Database

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,59}$")
MAX_SQL = 100_000
Result = tuple[list[str], list[tuple[Any, ...]]]


def _invalid(message: str) -> PlatformError:
    return PlatformError("invalid_params", message, 422, "dataclip")


class Dataclips:
    def __init__(self, settings: Settings, db: Database, addons: AddonManager) -> None:
        self.settings = settings
        self.db = db
        self.addons = addons

    def url(self, clip: Dataclip) -> str:
        """The secret URL (add .csv or .json for those formats)."""
        s = self.settings
        return f"http://{s.domain or 'localhost'}:{s.port}/dataclips/{clip.token}"

    def list(self, app: App) -> list[Dataclip]:
        return clips_t.list_dataclips(self.db, app.id)

    def check(self, app: App, sql: str, addon_ref: str | None) -> Addon:
        """The Postgres add-on a query runs on, after the query's own checks; PlatformError if refused."""
        if len(sql) > MAX_SQL:
            raise _invalid("the query is over 100 kB; shorten it.")
        try:
            precheck(sql)
        except PostgresError as exc:
            raise _invalid(str(exc)) from None
        return self.addons.resolve(app, addon_ref or "DATABASE_URL", plans.POSTGRES)

    def create(self, app: App, name: str, sql: str, addon_ref: str | None = None) -> Dataclip:
        name = name.strip()
        if not NAME_RE.match(name):
            raise _invalid(f"{name!r} is not a dataclip name: use up to 60 letters, digits, spaces, '.', '_' or '-'.")
        addon = self.check(app, sql, addon_ref)
        try:
            return clips_t.create_dataclip(self.db, app.id, addon.id, name, sql)
        except clips_t.DataclipNameTaken:
            raise _invalid(f"{app.name} already has a dataclip named {name!r}; choose another name or destroy it "
                           "first.") from None

    def find(self, app: App, ref: str) -> Dataclip:
        clip = clips_t.get_dataclip(self.db, app.id, ref)
        if clip is None:
            raise PlatformError("not_found", f"{app.name} has no dataclip {ref!r}; list them with `hoist dataclips`.",
                                404, "dataclip")
        return clip

    def delete(self, app: App, ref: str) -> Dataclip:
        clip = self.find(app, ref)
        clips_t.delete_dataclip(self.db, clip.id)
        return clip

    async def _run(self, addon: Addon | None, sql: str) -> Result:
        """PostgresError when the database is gone or the query fails (a clear message to show)."""
        if addon is None:
            raise PostgresError("the dataclip's database was destroyed; create the dataclip again on another one")
        admin = await self.addons.pg.admin_url()
        return await asyncio.to_thread(pgclips.run, admin, str(addon.provider["database"]), sql,
                                       self.settings.dataclip_timeout)

    async def run(self, clip: Dataclip) -> Result:
        return await self._run(addons_t.get_addon(self.db, clip.addon_id), clip.sql)

    async def preview(self, app: App, sql: str, addon_ref: str | None = None) -> Result:
        """Run a query that is not saved (the dashboard's Run button), with the same checks and limits."""
        return await self._run(self.check(app, sql, addon_ref), sql)
