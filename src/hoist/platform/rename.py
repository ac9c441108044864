"""Renaming an app (`apps:rename`, `PATCH /apps/{app}` with a name): everything keyed by the name
follows, and nothing the app runs stops.

What a rename touches: the database row (its releases, config, add-ons, domains, formation, sleep
and builds hang off the app's id and stay), the link apps/NAME (the files are under apps/.ids/ID, so
no path under a running dyno, Redis server or stored slug changes), the app's system user when hoist
runs as root (the same uid under the new name, so its running processes and guarded ports stay its
own), and what the running hoist keeps by name: the supervisor's dynos, the log store, one-off dynos,
then the route table, where the new host routes and the old one no longer does. The dynos are not
restarted. A rename waits for the app's add-on and release changes in progress, and is refused
while a build runs."""
from __future__ import annotations

import asyncio

from hoist import names
from hoist.dynos.isolation import IsolationError
from hoist.dynos.oneoff import OneOffs
from hoist.platform import app_dirs
from hoist.platform.control import Platform
from hoist.platform.errors import PlatformError
from hoist.platform.pipeline import Pushes
from hoist.state import app_setups as setups_t
from hoist.state import apps as apps_t
from hoist.state.apps import App
from hoist.state.users import User


def _invalid(message: str) -> PlatformError:
    return PlatformError("invalid_params", message, 422, "app")


class Renames:
    def __init__(self, platform: Platform, pushes: Pushes, oneoffs: OneOffs) -> None:
        self.platform = platform
        self.pushes = pushes
        self.oneoffs = oneoffs

    def check(self, app: App, new: object, actor: User) -> str:
        """The new name, if the app may take it now; PlatformError saying why not."""
        p = self.platform
        if not p.can_manage(actor, app):
            raise PlatformError("forbidden", f"Only the owner of {app.name} or the admin can rename it.", 403, "app")
        if not isinstance(new, str):
            raise _invalid("name must be a string: the app's new name.")
        if new == app.name:
            raise _invalid(f"{app.name} is already called {new}.")
        try:
            names.new_app_name(new)
        except names.InvalidName as exc:
            raise _invalid(str(exc)) from None
        if apps_t.get_app(p.db, new) is not None:
            raise _invalid(f"Name {new} is already taken; choose another name.")
        if self.pushes.building(app) or setups_t.pending_for(p.db, app.id):
            raise PlatformError("conflict", f"A build of {app.name} is running; rename it once the build has "
                                "finished (`hoist builds` shows it).", 409, "app")
        return new

    async def rename(self, app: App, new: object, actor: User) -> App:
        p = self.platform
        name = self.check(app, new, actor)
        async with self.pushes.lock(app.id), p.addons.lock(app.id), p.supervisor.lock(app.name):
            current = apps_t.get_app(p.db, app.id)
            if current is None:
                raise PlatformError("not_found", f"{app.name} was destroyed meanwhile.", 404, "app")
            old = current.name
            if old != app.name:
                raise PlatformError("conflict", f"{app.name} was renamed to {old} meanwhile.", 409, "app")
            if p.isolation is not None:
                try:
                    await asyncio.to_thread(p.isolation.rename, old, name)
                except IsolationError as exc:
                    raise PlatformError("invalid_params", str(exc), 422, "app") from None
            try:
                apps_t.update_app(p.db, app.id, name=name)
            except apps_t.NameTaken:
                if p.isolation is not None:
                    await asyncio.to_thread(p.isolation.rename, name, old)
                raise _invalid(f"Name {name} is already taken; choose another name.") from None
            # From here on nothing awaits: no request, dyno or loop pass sees the app half renamed.
            app_dirs.rename(p.paths, old, name, app.id)
            p.supervisor.rename(old, name)
            p.logs.rename(old, name)
            p.drains.rename(old, name)
            self.oneoffs.rename(old, name)
            p.publish_routes()
            p.audit(current, actor, "rename", f"from {old} to {name}")
            p.logs.emit(name, "app", "api", f"Rename from {old} to {name} by user {actor.email}")
        renamed = apps_t.get_app(p.db, app.id)
        assert renamed is not None
        return renamed
