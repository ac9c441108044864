"""An app's life: created (a git repository, its own system user when isolated, release v1),
put in maintenance, restored when hoist starts, destroyed with everything it had."""
from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from hoist import names
from hoist.dynos.isolation import Isolation
from hoist.dynos.supervisor import Supervisor
from hoist.git.repo import init_repo
from hoist.logs.store import LogStore
from hoist.paths import Paths
from hoist.platform import app_dirs
from hoist.platform.access import audit
from hoist.platform.addons import AddonManager
from hoist.platform.errors import PlatformError
from hoist.platform.releases import Releases
from hoist.state import apps as apps_t
from hoist.state import formation as formation_t
from hoist.state import releases as releases_t
from hoist.state import sleep as sleep_t
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.state.users import User

_ADJECTIVES = ["quiet", "brave", "shiny", "gentle", "rapid", "sunny", "lucky", "misty", "proud", "calm",
               "eager", "fuzzy", "jolly", "noble", "polar", "rustic", "silent", "tidy", "vast", "witty"]
_NOUNS = ["river", "falcon", "meadow", "harbor", "summit", "forest", "canyon", "island", "comet", "willow",
          "glacier", "prairie", "lagoon", "beacon", "orchard", "tundra", "reef", "valley", "ember", "atlas"]


def random_app_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(1000, 9999)}"


class Apps:
    def __init__(self, paths: Paths, db: Database, logs: LogStore, supervisor: Supervisor, releases: Releases,
                 addons: AddonManager, isolation: Isolation | None, publish: Callable[[], None]) -> None:
        self.paths = paths
        self.db = db
        self.logs = logs
        self.supervisor = supervisor
        self.releases = releases
        self.addons = addons
        self.isolation = isolation
        self.publish = publish

    def create(self, user: User, name: str | None) -> App:
        if name is None or name == "":
            for _ in range(20):
                name = random_app_name()
                if apps_t.get_app(self.db, name) is None:
                    break
        assert name is not None
        try:
            names.new_app_name(name)
        except names.InvalidName as exc:
            raise PlatformError("invalid_params", str(exc), 422, "app") from None
        try:
            app = apps_t.create_app(self.db, name, user.id)
        except apps_t.NameTaken:
            raise PlatformError("invalid_params", f"Name {name} is already taken; choose another name "
                                "or omit it to get a random one.", 422, "app") from None
        app_dirs.create(self.paths, name, app.id)
        init_repo(self.paths.repo(name))
        if self.isolation is not None:
            self.isolation.prepare_app(name, new=True)
        audit(self.db, app, user, "create", f"Created app {name}")
        releases_t.create_release(self.db, app.id, slug_id=None, config={}, description="Initial release",
                                  user_id=user.id, status="succeeded")
        self.logs.emit(name, "app", "api", f"Initial release by user {user.email}")
        self.supervisor.load(name, None, {})
        self.publish()
        return app

    async def destroy(self, app: App) -> list[str]:
        """Stop everything of the app and remove it. Returns what could not be cleaned up, each saying what to
        do (also in the server's output): the app is gone either way, and its uid is never handed on."""
        problems = []
        async with self.supervisor.lock(app.name):
            await self.supervisor.remove(app.name)
            await self.addons.forget_app(app)  # drop its databases and stop its Redis servers first
            if self.isolation is not None:  # every process of its user, whatever session it put itself in
                problem = await asyncio.to_thread(self.isolation.forget_app, app.name)
                if problem is not None:
                    problems.append(f"{app.name} was destroyed, but its system user was not removed: {problem}")
            apps_t.delete_app(self.db, app.id)
            self.logs.forget(app.name)
            app_dirs.remove(self.paths, app.name)
        self.publish()
        for problem in problems:
            self.addons.say(problem)  # the server's output (the add-on manager carries it)
        return problems

    def set_maintenance(self, app: App, on: bool, user: User) -> None:
        apps_t.update_app(self.db, app.id, maintenance=on)
        audit(self.db, app, user, "maintenance", "on" if on else "off")
        self.logs.emit(app.name, "app", "api", f"Maintenance mode {'on' if on else 'off'} by user {user.email}")
        self.publish()

    def restore_all(self) -> int:
        """Hand every app's current release, formation and sleep to the supervisor (hoist just started)."""
        count = 0
        for app in apps_t.list_apps(self.db):
            init_repo(self.paths.repo(app.name))  # re-point the hook at this hoist (it may have moved)
            if self.isolation is not None:
                self.isolation.prepare_app(app.name)
            self.supervisor.load(app.name, self.releases.current(app), formation_t.quantities(self.db, app.id))
            count += 1
        self.publish()
        for name in sleep_t.sleeping_apps(self.db):
            self.supervisor.set_sleep(name, True)
        return count
