"""Add-on operations for the control plane: provision, attach (a release), promote, rotate, destroy.

The providers under hoist.addons provision and hand back URLs; this module turns them into config vars.
Everything that changes an app's vars goes through Platform.set_config, so each change is a release."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from hoist.addons import plans
from hoist.addons.errors import AddonError
from hoist.addons.postgres.provider import PostgresProvider
from hoist.addons.provider import Provider
from hoist.platform.addon_refs import AddonPlatform, config_url, failed, need_postgres, resolve
from hoist.platform.pgbackups import Backups
from hoist.platform.errors import PlatformError
from hoist.platform.schedules import Schedules
from hoist.state import addons as addons_t
from hoist.state import backups as backups_t
from hoist.state import config as config_t
from hoist.dynos.commands import DeployResult
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.releases import Release
from hoist.state.users import User

Outcome = tuple[Release, DeployResult]  # the release a change of config vars made, and how it went


class AddonManager:
    def __init__(self, platform: AddonPlatform, pg: PostgresProvider, backups: Backups,
                 providers: Mapping[str, Provider], scheduler_tick: float,
                 say: Callable[[str], None] = print) -> None:
        """`providers`: the other kinds' providers (plans.REDIS, plans.AMQP, plans.SCHEDULER), by kind."""
        self.platform = platform
        self.db = platform.db
        self.pg = pg
        # By kind (a service's kind names the provider serving it); started in this order, Postgres first.
        self.providers: dict[str, Provider] = {plans.POSTGRES: pg, **providers}
        self.backups = backups  # the final backup on destroy
        self.schedules = Schedules(platform, scheduler_tick)  # the scheduler add-on's jobs
        self.say = say
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def lock(self, app_id: str) -> asyncio.Lock:
        """One add-on change of an app at a time (by id: an app can be renamed)."""
        return self._locks.setdefault(app_id, asyncio.Lock())

    # ----- lookups -----

    def list(self, app: App) -> list[Addon]:
        return addons_t.list_addons(self.db, app.id)

    def resolve(self, app: App, ref: str, service: str | None = None) -> Addon:
        """An add-on of `app` by name, id, attachment (DATABASE) or var (DATABASE_URL, HEROKU_POSTGRESQL_RED_URL)."""
        return resolve(self.db, app, ref, service)

    def url(self, app: App, addon: Addon) -> str:
        """The add-on's connection URL, as the app sees it in its config."""
        return config_url(self.db, app, addon)

    # ----- provisioning -----

    def provider(self, addon: Addon) -> Provider:
        return self.providers[plans.kind(addon.service)]

    async def create(self, app: App, user: User, plan_text: str) -> tuple[Addon, Outcome | None]:
        """Provision and attach (a release, unless the service sets no vars); the add-on and that release."""
        try:
            plan = plans.parse_plan(plan_text)
            service = plans.service(plan.service)
        except plans.PlanError as exc:
            raise PlatformError("invalid_params", str(exc), 422, "addon") from None
        async with self.lock(app.id):
            if service.one_per_app:
                have = [a for a in self.list(app) if a.service == service.name]
                if have:
                    raise PlatformError("invalid_params", f"{app.name} already has {service.name} "
                                        f"({have[0].name}), and an app has only one; use that one (see "
                                        f"`hoist addons:info {have[0].name} -a {app.name}`).", 422, "addon")
            for _ in range(20):
                name = plans.addon_name(plan.service)
                if addons_t.get_addon(self.db, name) is None:
                    break
            try:
                vars_ = plans.next_vars(plan.service, config_t.get_config(self.db, app.id))
            except plans.PlanError as exc:
                raise PlatformError("invalid_params", str(exc), 422, "addon") from None
            addon = addons_t.create_addon(self.db, app.id, name, plan.service, plan.plan, vars_)
            try:
                provided = await self.provider(addon).provision(addon, self.platform.paths.app(app.name) / "addons")
            except AddonError as exc:
                addons_t.delete_addon(self.db, addon.id)
                raise failed(exc) from None
            addons_t.update_addon(self.db, addon.id, state="provisioned", provider=provided.provider)
            attached = plans.attachment_name(vars_[0]) if vars_ else service.name.upper()
            self.platform.logs.emit(app.name, "app", "api", f"Attach {attached} ({name}) by user {user.email}")
            outcome = None
            if vars_:  # a service without config vars (the scheduler) makes no release
                _, rel, result = await self.platform.set_config(app, {v: provided.url for v in vars_}, user,
                                                                description=f"Attach {attached} ({name})")
                outcome = rel, result
        got = addons_t.get_addon(self.db, addon.id)
        assert got is not None
        return got, outcome

    async def destroy(self, app: App, addon: Addon, user: User) -> tuple[Addon, Outcome | None]:
        """Final backup (Postgres), drop database and role or stop Redis, then unset the vars (a release)."""
        async with self.lock(app.id):
            if addon.service == plans.POSTGRES:
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
            outcome = None
            if changes:
                names = ", ".join(plans.attachments(changes))
                _, rel, result = await self.platform.set_config(app, changes, user,
                                                                description=f"Detach {names} ({addon.name})")
                outcome = rel, result
        return Addon(**{**addon.__dict__, "state": "deprovisioned"}), outcome

    async def _deprovision(self, addon: Addon) -> None:
        if addon.service == plans.POSTGRES:
            backups_t.detach_backups(self.db, addon.id)
        try:
            await self.provider(addon).deprovision(addon)
        except AddonError as exc:
            raise failed(exc) from None

    async def forget_app(self, app: App) -> None:
        """The app is being destroyed: drop its databases, stop its Redis servers (no backups: its files go too)."""
        for addon in self.list(app):
            try:
                await self._deprovision(addon)
            except PlatformError as exc:
                self.say(f"could not remove add-on {addon.name} of {app.name}: {exc.message}")

    # ----- Postgres operations -----

    async def rotate(self, app: App, addon: Addon, user: User) -> Outcome:
        """New password, old sessions ended, vars updated (a release)."""
        need_postgres(addon)
        try:
            url = await self.pg.rotate(addon)
        except AddonError as exc:
            raise failed(exc) from None
        _, rel, result = await self.platform.set_config(app, {v: url for v in addon.config_vars}, user,
                                                        description=f"Rotate credentials of {addon.name}")
        return rel, result

    async def reset(self, app: App, addon: Addon, user: User) -> None:
        """Drop everything in the database (pg:reset); the app keeps its credentials and config."""
        need_postgres(addon)
        try:
            await self.pg.reset(addon)
        except AddonError as exc:
            raise failed(exc) from None
        self.platform.logs.emit(app.name, "app", "api", f"Reset {addon.name} by user {user.email}")
        self.platform.audit(app, user, "addon.reset", addon.name)

    async def promote(self, app: App, addon: Addon, user: User) -> Outcome:
        """Make `addon` the app's DATABASE_URL; the previous primary keeps (or gets) a colour var."""
        need_postgres(addon)
        if "DATABASE_URL" in addon.config_vars:
            raise PlatformError("invalid_params", f"{addon.name} is already DATABASE_URL; nothing to do.",
                                422, "addon")
        async with self.lock(app.id):
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
            _, rel, result = await self.platform.set_config(app, changes, user,
                                                            description=f"Promote {addon.name} to DATABASE")
        return rel, result

    async def info(self, app: App, addon: Addon) -> dict[str, Any]:
        need_postgres(addon)
        try:
            return await self.pg.info(addon)
        except AddonError as exc:
            raise failed(exc) from None

    # ----- server lifecycle -----

    async def start_all(self) -> None:
        """On server start: each provider brings up what its existing add-ons need (the cluster, Redis servers,
        the RabbitMQ node)."""
        known = [a for a in addons_t.list_addons(self.db) if a.service in plans.SERVICE_ALIASES]
        for kind, provider in self.providers.items():
            await provider.start([a for a in known if plans.kind(a.service) == kind])

    def start_tasks(self) -> None:
        """The backup scheduler (the keeper watches the add-on servers)."""
        self._tasks = [asyncio.create_task(self.backups.run())]

    async def stop_all(self, keep_servers: bool = False) -> None:
        """Stop the backup scheduler, then each provider's servers, the last started first (`keep_servers`:
        hoist hands over to its next run, and the servers go on for the apps)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if keep_servers:
            return
        for provider in reversed(list(self.providers.values())):
            await provider.stop()
