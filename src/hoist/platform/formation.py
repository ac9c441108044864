"""What runs of an app: its formation (ps:scale), sleep (ps:sleep), and the supervisor's
commands a user gives (ps:restart, ps:stop, a wake from the router), with what `ps` reads."""
from __future__ import annotations

from collections.abc import Mapping

from hoist import names
from hoist.dynos.runtime import Dyno
from hoist.dynos.supervisor import Supervisor
from hoist.logs.store import LogStore
from hoist.platform.access import audit
from hoist.platform.errors import PlatformError
from hoist.platform.releases import Releases
from hoist.state import formation as formation_t
from hoist.state import sleep as sleep_t
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.state.users import User


class Formation:
    def __init__(self, db: Database, logs: LogStore, supervisor: Supervisor, releases: Releases) -> None:
        self.db = db
        self.logs = logs
        self.supervisor = supervisor
        self.releases = releases

    # ----- desired state -----

    async def scale(self, app: App, updates: Mapping[str, int], user: User) -> None:
        for ptype, qty in updates.items():
            try:
                names.process_type(ptype)
            except names.InvalidName as exc:
                raise PlatformError("invalid_params", str(exc), 422, "formation") from None
            if qty < 0 or qty > 100:
                raise PlatformError("invalid_params", f"Cannot scale {ptype} to {qty}: use 0 to 100.", 422, "formation")
        run = self.releases.current(app)
        known = set(run.process_types) if run else set(formation_t.quantities(self.db, app.id))
        for ptype in updates:
            if ptype not in known:
                listed = ", ".join(sorted(known - {"release"})) or "none yet: push a Procfile first"
                raise PlatformError("not_found", f"Couldn't find that process type ({ptype}). "
                                    f"This app's process types: {listed}.", 404, "formation")
        for ptype, qty in updates.items():
            formation_t.set_quantity(self.db, app.id, ptype, qty)
        audit(self.db, app, user, "scale", ", ".join(f"{t}={q}" for t, q in updates.items()))
        self.logs.emit(app.name, "app", "api", "Scaled to " + ", ".join(f"{t}@{q}" for t, q in updates.items())
                       + f" by user {user.email}")
        self.supervisor.set_formation(app.name, formation_t.quantities(self.db, app.id))

    def set_sleep(self, app: App, enabled: bool, user: User) -> None:
        """ps:sleep on|off: idle web dynos stop (and a request wakes them); off wakes a sleeping app."""
        sleep_t.set_sleep(self.db, app.id, enabled)
        self.supervisor.set_sleep(app.name, enabled)
        self.logs.emit(app.name, "app", "api", f"Sleep {'on' if enabled else 'off'} by user {user.email}")

    # ----- commands -----

    async def restart(self, app: App, user: User, target: str | None = None) -> int:
        """Restart all dynos, one type or one dyno; return how many (0: no such dyno or type)."""
        count = await self.supervisor.restart(app.name, target)
        if target and count == 0:
            return 0
        self.logs.emit(app.name, "app", "api", f"Restart {target or 'all dynos'} by user {user.email}")
        return count

    async def stop(self, app: App, user: User, target: str) -> int:
        """ps:stop a dyno or a type (the formation starts it again); return how many (0: no such dyno)."""
        count = await self.supervisor.stop(app.name, target)
        if count:
            self.logs.emit(app.name, "app", "api", f"Stop {target} by user {user.email}")
        return count

    async def wake(self, app: str) -> bool:
        """Start a sleeping app's web dynos (the router holds a request for it); True once they answer."""
        return await self.supervisor.wake_app(app)

    # ----- what runs -----

    def dynos(self, app: App) -> list[Dyno]:
        rt = self.supervisor.apps.get(app.name)
        return sorted(rt.dynos.values(), key=lambda d: (d.type, d.number)) if rt else []

    def asleep(self, app: App) -> bool:
        rt = self.supervisor.apps.get(app.name)
        return bool(rt and rt.asleep)
