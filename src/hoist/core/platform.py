"""The control plane's operations: apps, releases, config, formation.

The API, the git receiver and the server all act through this object, so
every change of desired state goes through the same few functions: each
config change or deploy makes a release, and each release reaches the
supervisor here.
"""
from __future__ import annotations

import asyncio
import random
import secrets
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

from hoist import names
from hoist.core.capability import UrlSigner
from hoist.core.release_output import release_output
from hoist.contracts import routes
from hoist.contracts.release import RunRelease
from hoist.dynos.routing import notify
from hoist.dynos.supervisor import DeployResult, Supervisor
from hoist.logs.store import LogStore
from hoist.paths import Paths
from hoist.settings import Settings
from hoist.state import activity as activity_t
from hoist.state import apps as apps_t
from hoist.state import collaborators as collaborators_t
from hoist.state import users as users_t
from hoist.state import domains as domains_t
from hoist.state import config as config_t
from hoist.state import formation as formation_t
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.db import Database, utcnow
from hoist.state.releases import Release
from hoist.state.users import User

_ADJECTIVES = ["quiet", "brave", "shiny", "gentle", "rapid", "sunny", "lucky", "misty", "proud", "calm",
               "eager", "fuzzy", "jolly", "noble", "polar", "rustic", "silent", "tidy", "vast", "witty"]
_NOUNS = ["river", "falcon", "meadow", "harbor", "summit", "forest", "canyon", "island", "comet", "willow",
          "glacier", "prairie", "lagoon", "beacon", "orchard", "tundra", "reef", "valley", "ember", "atlas"]


class PlatformError(Exception):
    """An operation that cannot be done; `id` is the Heroku API error id."""

    def __init__(self, id: str, message: str, status: int = 422, resource: str | None = None) -> None:
        super().__init__(message)
        self.id = id
        self.message = message
        self.status = status
        self.resource = resource


def random_app_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(1000, 9999)}"


class Platform:
    def __init__(self, settings: Settings, paths: Paths, db: Database, logs: LogStore, supervisor: Supervisor) -> None:
        self.settings = settings
        self.paths = paths
        self.db = db
        self.logs = logs
        self.supervisor = supervisor
        self.internal_url = ""  # set by the server once the API socket is bound
        self.signer = UrlSigner(paths.url_key)
        self.router_pid: int | None = None
        self.isolation: Any = None  # hoist.dynos.isolation.Isolation when running as root
        self.addons: Any = None  # hoist.core.addons.AddonManager, set by the server
        self.acme_failures: dict[str, str] = {}  # hostname -> why the last ACME order failed
        self.acme_wake: Callable[[], None] | None = None  # set by the server's ACME task
        self.wake_secret = secrets.token_urlsafe(32)  # the router's key to POST /internal/wake/APP

    # ----- addresses -----

    def app_hosts(self, app: str) -> list[str]:
        hosts = [f"{app}.localhost"]
        if self.settings.domain:
            hosts.append(f"{app}.{self.settings.domain}")
        return hosts + domains_t.hostnames_of(self.db, app)

    def web_url(self, app: str) -> str:
        host = f"{app}.{self.settings.domain}" if self.settings.domain else f"{app}.localhost"
        return f"http://{host}:{self.settings.port}/"

    def git_url(self, app: str) -> str:
        return f"http://localhost:{self.settings.port}/{app}.git"

    # ----- lookups -----

    def find_app(self, user: User, name_or_id: str) -> App:
        """The app, if it exists and the user may see it; the same 404 otherwise, so names cannot be probed."""
        app = apps_t.get_app(self.db, name_or_id)
        if app is None or not self.can_access(user, app):
            raise PlatformError("not_found", f"Couldn't find that app: {name_or_id!r}. "
                                "Run `hoist apps` to list your apps.", 404, "app")
        return app

    def can_access(self, user: User, app: App) -> bool:
        """The admin, the owner and the app's collaborators; asked again on every request and log line."""
        if user.is_admin or app.owner_id == user.id:
            return True
        return collaborators_t.is_collaborator(self.db, app.id, user.id)

    def can_manage(self, user: User, app: App) -> bool:
        """Destroying the app and changing who has access: the owner and the admin only."""
        return user.is_admin or app.owner_id == user.id

    def visible_apps(self, user: User) -> list[App]:
        if user.is_admin:
            return apps_t.list_apps(self.db)
        shared = collaborators_t.app_ids_for(self.db, user.id)
        return [a for a in apps_t.list_apps(self.db) if a.owner_id == user.id or a.id in shared]

    def audit(self, app: App, user: User | str, action: str, detail: str = "") -> None:
        """Record who did what to the app (never secrets: config keys, not values)."""
        email = user if isinstance(user, str) else user.email
        activity_t.record(self.db, app.id, email, action, detail)

    # ----- apps -----

    def create_app(self, user: User, name: str | None) -> App:
        if name is None or name == "":
            for _ in range(20):
                name = random_app_name()
                if apps_t.get_app(self.db, name) is None:
                    break
        assert name is not None
        try:
            names.app_name(name)
        except names.InvalidName as exc:
            raise PlatformError("invalid_params", str(exc), 422, "app") from None
        try:
            app = apps_t.create_app(self.db, name, user.id)
        except apps_t.NameTaken:
            raise PlatformError("invalid_params", f"Name {name} is already taken; choose another name "
                                "or omit it to get a random one.", 422, "app") from None
        from hoist.git.repo import init_repo  # git is a leaf package; imported late to keep startup small
        init_repo(self.paths.repo(name))
        if self.isolation is not None:
            self.isolation.prepare_app(name)
        self.audit(app, user, "create", f"Created app {name}")
        releases_t.create_release(self.db, app.id, slug_id=None, config={}, description="Initial release",
                                  user_id=user.id, status="succeeded")
        self.logs.emit(name, "app", "api", f"Initial release by user {user.email}")
        self.supervisor.load(name, None, {})
        self.publish_routes()
        return app

    async def destroy_app(self, app: App) -> None:
        async with self.supervisor.lock(app.name):
            await self.supervisor.remove(app.name)
            if self.addons is not None:  # drop its databases and stop its Redis servers first
                await self.addons.forget_app(app)
            apps_t.delete_app(self.db, app.id)
            self.logs.forget(app.name)
            shutil.rmtree(self.paths.app(app.name), ignore_errors=True)
            if self.isolation is not None:
                self.isolation.forget_app(app.name)
        self.publish_routes()

    async def set_maintenance(self, app: App, on: bool, user: User) -> None:
        apps_t.update_app(self.db, app.id, maintenance=on)
        self.audit(app, user, "maintenance", "on" if on else "off")
        self.logs.emit(app.name, "app", "api", f"Maintenance mode {'on' if on else 'off'} by user {user.email}")
        self.publish_routes()

    # ----- releases -----

    def run_release(self, app: App, rel: Release) -> RunRelease | None:
        if rel.slug_id is None:
            return None
        slug = releases_t.get_slug(self.db, rel.slug_id)
        if slug is None:
            return None
        return RunRelease(
            id=rel.id, version=rel.version, process_types=slug.process_types,
            slug_dir=self.paths.slug(app.name, slug.id),
            env_dir=Path(slug.env_dir) if slug.env_dir else None, config=rel.config,
            health_path=slug.app_json.web_health_path if slug.app_json else None,
        )

    def formation(self, app: App) -> dict[str, int]:
        return {f.type: f.quantity for f in formation_t.list_formation(self.db, app.id)}

    async def release(
        self, app: App, *, slug_id: str | None, config: Mapping[str, str], description: str, user: User,
        out: Callable[[str], None] = lambda s: None,
    ) -> tuple[Release, DeployResult]:
        """Create release vN and make it current; if it cannot start, mark it failed and keep the old one."""
        async with self.supervisor.lock(app.name):
            rel = releases_t.create_release(self.db, app.id, slug_id=slug_id, config=config,
                                            description=description, user_id=user.id)
            run = self.run_release(app, rel)
            if run is None:
                result = DeployResult(True, "no slug yet: nothing to start")
            else:
                self.logs.emit(app.name, "hoist", "api", f"Release v{rel.version} starting")
                with release_output(self.paths.release_log(app.name, rel.id), run, out) as tee:
                    result = await self.supervisor.deploy(app.name, run, self.formation(app), tee)
            status = "succeeded" if result.ok else "failed"
            releases_t.set_release_status(self.db, rel.id, status)
            self.audit(app, user, "release", f"v{rel.version} {status}: {description}")
            if result.ok:
                apps_t.update_app(self.db, app.id, released_at=utcnow())
                self.logs.emit(app.name, "app", "api", f"Release v{rel.version} created by user {user.email}")
            else:
                self.logs.emit(app.name, "app", "api",
                               f"Release v{rel.version} failed: {result.message}")
        self.publish_routes()
        final = releases_t.get_release(self.db, app.id, rel.id)
        assert final is not None
        return final, result

    def _slug_of_current(self, app: App) -> str | None:
        cur = releases_t.latest_slug_release(self.db, app.id)
        return cur.slug_id if cur else None

    async def set_config(self, app: App, changes: Mapping[str, str | None], user: User,
                         description: str | None = None) -> tuple[dict[str, str], Release, DeployResult]:
        for key in changes:
            try:
                names.config_key(key)
            except names.InvalidName as exc:
                raise PlatformError("invalid_params", str(exc), 422, "config_vars") from None
        config = config_t.apply_changes(self.db, app.id, changes)
        set_keys = [k for k, v in changes.items() if v is not None]
        removed = [k for k, v in changes.items() if v is None]
        parts = []
        if set_keys:
            parts.append(f"Set {', '.join(set_keys)} config vars")
        if removed:
            parts.append(f"Remove {', '.join(removed)} config vars")
        description = description or "; ".join(parts) or "Config vars unchanged"
        rel, result = await self.release(app, slug_id=self._slug_of_current(app), config=config,
                                         description=description, user=user)
        return config, rel, result

    async def rollback(self, app: App, target: Release, user: User) -> tuple[Release, DeployResult]:
        if target.status != "succeeded":
            raise PlatformError("invalid_params", f"Release v{target.version} {target.status}; "
                                "roll back to a release that succeeded (see `hoist releases`).", 422, "release")
        config_t.apply_changes(self.db, app.id, {k: None for k in config_t.get_config(self.db, app.id)})
        config_t.apply_changes(self.db, app.id, target.config)
        return await self.release(app, slug_id=target.slug_id, config=target.config,
                                  description=f"Rollback to v{target.version}", user=user)

    # ----- formation -----

    async def scale(self, app: App, updates: Mapping[str, int], user: User) -> None:
        for ptype, qty in updates.items():
            try:
                names.process_type(ptype)
            except names.InvalidName as exc:
                raise PlatformError("invalid_params", str(exc), 422, "formation") from None
            if qty < 0 or qty > 100:
                raise PlatformError("invalid_params", f"Cannot scale {ptype} to {qty}: use 0 to 100.", 422, "formation")
        rel = releases_t.current_release(self.db, app.id)
        run = self.run_release(app, rel) if rel else None
        known = set(run.process_types) if run else set(self.formation(app))
        for ptype in updates:
            if ptype not in known:
                listed = ", ".join(sorted(known - {"release"})) or "none yet: push a Procfile first"
                raise PlatformError("not_found", f"Couldn't find that process type ({ptype}). "
                                    f"This app's process types: {listed}.", 404, "formation")
        for ptype, qty in updates.items():
            formation_t.set_quantity(self.db, app.id, ptype, qty)
        self.audit(app, user, "scale", ", ".join(f"{t}={q}" for t, q in updates.items()))
        self.logs.emit(app.name, "app", "api", "Scaled to " + ", ".join(f"{t}@{q}" for t, q in updates.items())
                       + f" by user {user.email}")
        self.supervisor.set_formation(app.name, self.formation(app))

    # ----- startup -----

    def restore_all(self) -> int:
        """Hand every app's current release and formation to the supervisor (hoist just started)."""
        from hoist.git.repo import init_repo

        count = 0
        for app in apps_t.list_apps(self.db):
            init_repo(self.paths.repo(app.name))  # re-point the hook at this hoist (it may have moved)
            if self.isolation is not None:
                self.isolation.prepare_app(app.name)
            rel = releases_t.current_release(self.db, app.id)
            run = self.run_release(app, rel) if rel else None
            self.supervisor.load(app.name, run, self.formation(app))
            count += 1
        self.publish_routes()
        return count

    def publish_routes(self) -> None:
        """Write the routing table from the supervisor's view and tell the router."""
        from hoist.core.domains import tls_entries  # it imports this module
        platform_hosts = ["localhost", "127.0.0.1", "[::1]"]
        if self.settings.domain:
            platform_hosts.append(self.settings.domain)
        all_apps = apps_t.list_apps(self.db)
        table = routes.build(
            platform_hosts=platform_hosts, platform_upstream=self.internal_url.removeprefix("http://"),
            request_timeout=self.settings.request_timeout, backends=self.supervisor.web_backends(),
            app_hosts=self.app_hosts, maintenance=[a.name for a in all_apps if a.maintenance],
            app_names=[a.name for a in all_apps], tls=tls_entries(self),
        )
        routes.write(self.paths.routes, table)
        notify(self.router_pid)

    # ----- access -----

    def add_collaborator(self, app: App, actor: User, email: str) -> collaborators_t.Collaborator:
        if not self.can_manage(actor, app):
            raise PlatformError("forbidden", "Only the app's owner or the admin can change who has access.", 403,
                                "collaborator")
        target = users_t.find_user_by_email(self.db, email.strip().lower()) if isinstance(email, str) else None
        if target is None:
            raise PlatformError("not_found", f"There is no user {email!r} on this hoist; the admin adds users "
                                "with `hoist users:add EMAIL`.", 404, "user")
        if target.id == app.owner_id:
            raise PlatformError("invalid_params", f"{target.email} owns {app.name} already.", 422, "collaborator")
        collab = collaborators_t.add(self.db, app.id, target.id)
        if collab is None:
            raise PlatformError("invalid_params", f"{target.email} is already a collaborator on {app.name}.", 422,
                                "collaborator")
        self.audit(app, actor, "access:add", target.email)
        return collab

    def remove_collaborator(self, app: App, actor: User, email: str) -> collaborators_t.Collaborator:
        if not self.can_manage(actor, app):
            raise PlatformError("forbidden", "Only the app's owner or the admin can change who has access.", 403,
                                "collaborator")
        target = users_t.find_user_by_email(self.db, email.strip().lower())
        collab = collaborators_t.get(self.db, app.id, target.id) if target else None
        if target is None or collab is None:
            raise PlatformError("not_found", f"{email!r} is not a collaborator on {app.name}; "
                                "see `hoist access`.", 404, "collaborator")
        collaborators_t.remove(self.db, app.id, target.id)
        self.audit(app, actor, "access:remove", target.email)
        return collab
