"""Add-on operations for the control plane: provision, attach (a release), promote, rotate, destroy.

Everything that changes an app's vars goes through Platform.set_config, so each change is a release."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from hoist.addons import plans
from hoist.addons.pgserver import PgServer
from hoist.addons.postgres import provision
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.front import TlsFront
from hoist.addons.postgres.urls import parse_url
from hoist.addons.redis import RedisError
from hoist.addons.redisfleet import RedisFleet
from hoist.core.platform import Platform, PlatformError
from hoist.state import addons as addons_t
from hoist.state import backups as backups_t
from hoist.state import config as config_t
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.users import User


def failed(exc: Exception, status: int = 503) -> PlatformError:
    return PlatformError("addon_error" if status >= 500 else "invalid_params", str(exc), status, "addon")


def not_found(ref: str, app: str) -> PlatformError:
    return PlatformError("not_found", f"Couldn't find add-on {ref!r} on {app}. Run `hoist addons -a {app}` "
                         "to list them.", 404, "addon")


class AddonManager:
    def __init__(self, platform: Platform, pg: PgServer, redis: RedisFleet,
                 say: Callable[[str], None] = print) -> None:
        self.platform = platform
        self.db = platform.db
        self.pg = pg
        self.redis = redis
        self.say = say
        self._locks: dict[str, asyncio.Lock] = {}
        self.backups: Any = None  # hoist.addons.pgbackups.Backups, for the final backup on destroy

    def lock(self, app: str) -> asyncio.Lock:
        return self._locks.setdefault(app, asyncio.Lock())

    # ----- lookups -----

    def list(self, app: App) -> list[Addon]:
        return addons_t.list_addons(self.db, app.id)

    def resolve(self, app: App, ref: str, service: str | None = None) -> Addon:
        """An add-on of `app` by name, id, attachment (DATABASE) or var (DATABASE_URL, HEROKU_POSTGRESQL_RED_URL)."""
        addons = [a for a in self.list(app) if service is None or a.service == service]
        for a in addons:
            if ref in (a.name, a.id):
                return a
        var = plans.var_for(ref)
        for a in addons:
            if var in a.config_vars:
                return a
        raise not_found(ref, app.name)

    def url(self, app: App, addon: Addon) -> str:
        """The add-on's connection URL, as the app sees it in its config."""
        config = config_t.get_config(self.db, app.id)
        for var in addon.config_vars:
            if config.get(var):
                return config[var]
        raise PlatformError("invalid_params", f"{addon.name}'s config var is missing from {app.name}'s config; "
                            f"run `hoist pg:credentials:rotate {addon.name} -a {app.name}` to set it again.",
                            422, "addon")

    # ----- provisioning -----

    async def create(self, app: App, user: User, plan_text: str) -> Addon:
        try:
            plan = plans.parse_plan(plan_text)
        except plans.PlanError as exc:
            raise PlatformError("invalid_params", str(exc), 422, "addon") from None
        async with self.lock(app.name):
            for _ in range(20):
                name = plans.addon_name(plan.service)
                if addons_t.get_addon(self.db, name) is None:
                    break
            var = plans.next_var(plan.service, config_t.get_config(self.db, app.id))
            addon = addons_t.create_addon(self.db, app.id, name, plan.service, plan.plan, [var])
            try:
                url, provider = await self._provision(app, addon)
            except (PostgresError, RedisError) as exc:
                addons_t.delete_addon(self.db, addon.id)
                raise failed(exc) from None
            addons_t.update_addon(self.db, addon.id, state="provisioned", provider=provider)
            self.platform.logs.emit(app.name, "app", "api", f"Attach {plans.attachment_name(var)} ({name}) "
                                    f"by user {user.email}")
            await self.platform.set_config(app, {var: url}, user,
                                           description=f"Attach {plans.attachment_name(var)} ({name})")
        got = addons_t.get_addon(self.db, addon.id)
        assert got is not None
        return got

    async def _provision(self, app: App, addon: Addon) -> tuple[str, dict[str, Any]]:
        if addon.service == plans.POSTGRES:
            admin = await self.pg.admin_url()
            creds = await asyncio.to_thread(provision.create, admin, addon.name)
            url = self.pg.app_url(creds.url)
            return url, {"database": creds.database, "user": creds.user, "host": creds.host,
                         "port": parse_url(url).port}
        provider = self.redis.new_provider(self.platform.paths.app(app.name) / "addons" / addon.name)
        server = await self.redis.start(Addon(**{**addon.__dict__, "provider": provider}))
        return server.url, provider

    async def destroy(self, app: App, addon: Addon, user: User) -> Addon:
        """Final backup (Postgres), drop database and role or stop Redis, then unset the vars (a release)."""
        async with self.lock(app.name):
            if addon.service == plans.POSTGRES and self.backups is not None:
                backup = await self.backups.capture(app, addon, source="final")
                if backup.status != "completed":
                    raise PlatformError("addon_error", f"the final backup of {addon.name} failed "
                                        f"({backup.message}); nothing was destroyed. Fix the cause and try again.",
                                        503, "addon")
            await self._deprovision(addon)
            addons_t.update_addon(self.db, addon.id, state="deprovisioned")
            config = config_t.get_config(self.db, app.id)
            changes: dict[str, str | None] = {v: None for v in addon.config_vars if v in config}
            addons_t.delete_addon(self.db, addon.id)
            if changes:
                names = ", ".join(plans.attachment_name(v) for v in changes)
                await self.platform.set_config(app, changes, user, description=f"Detach {names} ({addon.name})")
        return Addon(**{**addon.__dict__, "state": "deprovisioned"})

    async def _deprovision(self, addon: Addon) -> None:
        try:
            if addon.service == plans.POSTGRES:
                backups_t.detach_backups(self.db, addon.id)
                p = addon.provider
                if p.get("database"):
                    admin = await self.pg.admin_url()
                    await asyncio.to_thread(provision.destroy, admin, str(p["database"]), str(p["user"]))
            else:
                await self.redis.stop(addon)
        except (PostgresError, RedisError) as exc:
            raise failed(exc) from None

    async def forget_app(self, app: App) -> None:
        """The app is being destroyed: drop its databases, stop its Redis servers (no backups: its files go too)."""
        for addon in self.list(app):
            try:
                await self._deprovision(addon)
            except PlatformError as exc:
                self.say(f"could not remove add-on {addon.name} of {app.name}: {exc.message}")

    # ----- Postgres operations -----

    async def rotate(self, app: App, addon: Addon, user: User) -> None:
        """New password, old sessions ended, vars updated (a release)."""
        self._need_pg(addon)
        p = addon.provider
        try:
            admin = await self.pg.admin_url()
            creds = await asyncio.to_thread(provision.rotate, admin, str(p["database"]), str(p["user"]))
        except PostgresError as exc:
            raise failed(exc) from None
        await self.platform.set_config(app, {v: self.pg.app_url(creds.url) for v in addon.config_vars}, user,
                                       description=f"Rotate credentials of {addon.name}")

    async def reset(self, app: App, addon: Addon, user: User) -> None:
        """Drop everything in the database (pg:reset); the app keeps its credentials and config."""
        self._need_pg(addon)
        p = addon.provider
        try:
            admin = await self.pg.admin_url()
            await asyncio.to_thread(provision.reset, admin, str(p["database"]), str(p["user"]))
        except PostgresError as exc:
            raise failed(exc) from None
        self.platform.logs.emit(app.name, "app", "api", f"Reset {addon.name} by user {user.email}")
        self.platform.audit(app, user, "addon.reset", addon.name)

    async def promote(self, app: App, addon: Addon, user: User) -> None:
        """Make `addon` the app's DATABASE_URL; the previous primary keeps (or gets) a colour var."""
        self._need_pg(addon)
        if "DATABASE_URL" in addon.config_vars:
            raise PlatformError("invalid_params", f"{addon.name} is already DATABASE_URL; nothing to do.",
                                422, "addon")
        async with self.lock(app.name):
            url = self.url(app, addon)
            config = config_t.get_config(self.db, app.id)
            changes: dict[str, str | None] = {"DATABASE_URL": url}
            for other in self.list(app):
                if other.id != addon.id and "DATABASE_URL" in other.config_vars:
                    rest = [v for v in other.config_vars if v != "DATABASE_URL"]
                    if not rest:
                        var = plans.next_var(plans.POSTGRES, set(config) | set(changes))
                        rest = [var]
                        changes[var] = config.get("DATABASE_URL")
                    addons_t.update_addon(self.db, other.id, config_vars=rest)
            addons_t.update_addon(self.db, addon.id, config_vars=[*addon.config_vars, "DATABASE_URL"])
            await self.platform.set_config(app, changes, user, description=f"Promote {addon.name} to DATABASE")

    async def info(self, app: App, addon: Addon) -> dict[str, Any]:
        self._need_pg(addon)
        try:
            admin = await self.pg.admin_url()
            return await asyncio.to_thread(provision.info, admin, str(addon.provider["database"]))
        except PostgresError as exc:
            raise failed(exc) from None

    def _need_pg(self, addon: Addon) -> None:
        if addon.service != plans.POSTGRES:
            raise PlatformError("invalid_params", f"{addon.name} is a {addon.service} add-on, not Postgres; "
                                "name a Postgres add-on (see `hoist addons`).", 422, "addon")

    # ----- server lifecycle -----

    async def start_all(self) -> None:
        """On server start: the cluster if any Postgres add-on exists, and every Redis server."""
        if addons_t.list_addons(self.db, service=plans.POSTGRES):
            try:
                await self.pg.ensure_started()
            except PostgresError as exc:
                self.say(f"PostgreSQL did not start: {exc}")
        await self.redis.start_all(addons_t.list_addons(self.db, service=plans.REDIS))

    def start_tasks(self) -> None:
        """The watchdogs (restart PostgreSQL or a Redis server that died) and the backup scheduler."""
        self._tasks = [asyncio.create_task(self.pg.watch()), asyncio.create_task(self._watch_redis())]
        if self.backups is not None:
            self._tasks.append(asyncio.create_task(self.backups.run()))

    async def _watch_redis(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            await self.redis.restart_dead()

    async def stop_all(self) -> None:
        """Stop the tasks first (so no watchdog restarts what we stop), then Redis, then PostgreSQL."""
        for task in getattr(self, "_tasks", []):
            task.cancel()
        await asyncio.gather(*getattr(self, "_tasks", []), return_exceptions=True)
        await self.redis.stop_all()
        await self.pg.stop()


def build(platform: Platform, say: Callable[[str], None]) -> AddonManager:
    """Wire the add-on pieces for the server and hang them on the platform."""
    from hoist.addons.pgbackups import Backups

    pg = PgServer(platform.paths.postgres / "data", platform.settings.postgres_url, say,
                  TlsFront(platform.paths.postgres, platform.paths.tls, platform.settings.pg_port, say))
    manager = AddonManager(platform, pg, RedisFleet(say), say)
    manager.backups = Backups(manager)
    platform.addons = manager
    return manager
