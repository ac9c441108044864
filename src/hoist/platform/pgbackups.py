"""Backups of Postgres add-ons: capture, restore, daily schedules with retention, and the task running them."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from hoist.addons import plans
from hoist.addons.errors import AddonError
from hoist.addons.postgres import backups as pgb
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.provider import PostgresProvider
from hoist.addons.postgres.schedule import parse_hhmm
from hoist.platform.addon_refs import AddonPlatform, config_url, need_postgres
from hoist.platform.errors import PlatformError
from hoist.state import addons as addons_t
from hoist.state import apps as apps_t
from hoist.state import backups as backups_t
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.backups import Backup, Schedule
from hoist.logs.line import PLATFORM

CHECK_INTERVAL_S = 30.0


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Backups:
    def __init__(self, platform: AddonPlatform, pg: PostgresProvider, say: Callable[[str], None] = print,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.platform = platform
        self.db = platform.db
        self.paths = platform.paths
        self.pg = pg
        self.say = say
        self.clock = clock

    def directory(self, app: App) -> Path:
        return self.paths.app(app.name) / "backups"

    async def capture(self, app: App, addon: Addon, source: str = "manual") -> Backup:
        """pg_dump the add-on's database into the app's backups folder; a failure is recorded, not raised."""
        need_postgres(addon)
        url = config_url(self.db, app, addon)
        backup = backups_t.start_backup(self.db, app.id, addon.id, addon.name, str(self.directory(app)), source)
        try:
            await self.pg.ensure_started()
            size = await asyncio.to_thread(pgb.capture, url, Path(backup.path))
        except AddonError as exc:
            backups_t.finish_backup(self.db, backup.id, "failed", message=str(exc))
        else:
            backups_t.finish_backup(self.db, backup.id, "completed", size=size)
            self.platform.logs.emit(app.name, PLATFORM, "pg", f"Backup {backup.name} of {addon.name} "
                                            f"completed ({size} bytes, {source})")
        got = backups_t.get_backup(self.db, app.id, backup.id)
        assert got is not None
        return got

    async def restore(self, app: App, backup: Backup, target: Addon) -> None:
        """Replace the target add-on's database with the backup, in one transaction."""
        need_postgres(target)
        if backup.status != "completed":
            raise PlatformError("invalid_params", f"backup {backup.name} {backup.status}; restore a completed "
                                "backup (see `hoist pg:backups`).", 422, "backup")
        url = config_url(self.db, app, target)
        try:
            await self.pg.ensure_started()
            await asyncio.to_thread(pgb.restore, Path(backup.path), url)
        except AddonError as exc:
            raise PlatformError("addon_error", str(exc), 503, "backup") from None
        self.platform.logs.emit(app.name, PLATFORM, "pg", f"Restored {backup.name} into {target.name}")

    def schedule(self, addon: Addon, at: str, keep: int) -> Schedule:
        need_postgres(addon)
        try:
            parse_hhmm(at)
        except PostgresError as exc:
            raise PlatformError("invalid_params", str(exc), 422, "schedule") from None
        if keep < 1 or keep > 1000:
            raise PlatformError("invalid_params", f"keep={keep}: keep from 1 to 1000 scheduled backups.",
                                422, "schedule")
        return backups_t.set_schedule(self.db, addon.id, at, keep, _iso(pgb.next_run(self.clock(), at)))

    def unschedule(self, addon: Addon) -> None:
        backups_t.delete_schedule(self.db, addon.id)

    async def run_due(self) -> int:
        """Capture every schedule whose time has come, prune old scheduled backups; return how many ran."""
        now = self.clock()
        ran = 0
        for sched in backups_t.list_schedules(self.db):
            if sched.next_run > _iso(now):
                continue
            addon = addons_t.get_addon(self.db, sched.addon_id)
            app = apps_t.get_app(self.db, addon.app_id) if addon else None
            # Next run first: a failing backup must not retry every few seconds.
            backups_t.set_next_run(self.db, sched.addon_id, _iso(pgb.next_run(now, sched.at)))
            if addon is None or app is None or addon.service != plans.POSTGRES:
                continue
            try:
                await self.capture(app, addon, source="scheduled")
            except PlatformError as exc:
                self.say(f"scheduled backup of {addon.name} failed: {exc.message}")
                continue
            ran += 1
            done = [b for b in backups_t.list_backups(self.db, app.id, addon.id)
                    if b.source == "scheduled" and b.status == "completed"]
            for old in pgb.prune(done, sched.keep):
                Path(old.path).unlink(missing_ok=True)
                backups_t.delete_backup(self.db, old.id)
        return ran

    async def run(self, interval_s: float = CHECK_INTERVAL_S) -> None:
        """The server task running due schedules."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.run_due()
            except Exception as exc:  # noqa: BLE001 - a bad schedule must not stop the others next time
                self.say(f"backup schedules: {exc!r}")
