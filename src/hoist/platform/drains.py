"""Log drains of an app: kept in the database (so they outlive a hoist restart), started on the log store's
line stream (logs/drains.py). A drain URL is a secret: it is stored, used and compared, and anywhere else
(the API's listing, the audit log, the app's log) it appears masked."""
from __future__ import annotations

from dataclasses import dataclass

from hoist.logs.drain import DrainStatus
from hoist.logs.drain_url import InvalidDrainUrl, parse_drain_url
from hoist.platform.fetch import inside
from hoist.logs.drains import Drains
from hoist.logs.line import PLATFORM
from hoist.logs.store import LogStore
from hoist.platform.access import audit
from hoist.platform.errors import PlatformError
from hoist.state import drains as drains_t
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.state.drains import Drain
from hoist.state.users import User

MAX_PER_APP = 10


@dataclass(frozen=True)
class DrainView:
    drain: Drain
    masked_url: str
    status: DrainStatus | None


class DrainManager:
    def __init__(self, db: Database, logs: LogStore, drains: Drains) -> None:
        self.db = db
        self.logs = logs
        self.drains = drains

    def start_all(self) -> int:
        """hoist started: every stored drain runs again."""
        count = 0
        for app_name, drain in drains_t.all_drains(self.db):
            try:
                target = parse_drain_url(drain.url)
            except InvalidDrainUrl:
                continue  # rules got stricter since it was added; `drains` still lists it for removal
            self.drains.start(app_name, drain.id, target, drain.token)
            count += 1
        return count

    def _view(self, app: App, drain: Drain) -> DrainView:
        try:
            masked = parse_drain_url(drain.url).masked
        except InvalidDrainUrl:
            masked = "***"
        return DrainView(drain, masked, self.drains.status(app.name, drain.id))

    def list(self, app: App) -> list[DrainView]:
        return [self._view(app, d) for d in drains_t.list_drains(self.db, app.id)]

    def add(self, app: App, user: User, url: object) -> DrainView:
        try:
            target = parse_drain_url(url)
        except InvalidDrainUrl as exc:
            raise PlatformError("invalid_params", str(exc), 422, "log_drain") from None
        why = None if user.is_admin else inside(target.host, target.port)
        if why:  # hoist's connections must not reach inside for other users (a local rsyslog: the admin's call)
            raise PlatformError("invalid_params", f"The drain's host {why}: only the admin may add a drain on a "
                                "private network (a local syslog server, for example)", 422, "log_drain")
        existing = drains_t.list_drains(self.db, app.id)
        if any(d.url == target.url for d in existing):
            raise PlatformError("invalid_params", f"{app.name} already drains to {target.masked}. "
                                "`hoist drains` lists its drains.", 422, "log_drain")
        if len(existing) >= MAX_PER_APP:
            raise PlatformError("invalid_params", f"{app.name} has {MAX_PER_APP} drains, the most it may have: "
                                "remove one with `hoist drains:remove` first.", 422, "log_drain")
        drain = drains_t.create_drain(self.db, app.id, target.url)
        self.drains.start(app.name, drain.id, target, drain.token)
        audit(self.db, app, user, "drain-add", target.masked)
        self.logs.emit(app.name, PLATFORM, "api", f"Log drain {target.masked} added by user {user.email}")
        return self._view(app, drain)

    def find(self, app: App, key: str) -> Drain:
        drain = drains_t.find_drain(self.db, app.id, key)
        if drain is None:
            raise PlatformError("not_found", f"{app.name} has no drain {key!r}: give its URL, token or id as "
                                "`hoist drains` shows them.", 404, "log_drain")
        return drain

    def remove(self, app: App, user: User, key: str) -> DrainView:
        drain = self.find(app, key)
        view = self._view(app, drain)
        drains_t.delete_drain(self.db, drain.id)
        self.drains.stop(app.name, drain.id)
        audit(self.db, app, user, "drain-remove", view.masked_url)
        self.logs.emit(app.name, PLATFORM, "api", f"Log drain {view.masked_url} removed by user {user.email}")
        return view

    def rename(self, old: str, new: str) -> None:
        """The app is called `new` now: its drains go on, fed and reporting under that name."""
        self.drains.rename(old, new)

    def forget_app(self, app: App) -> None:
        """The app was destroyed: its drains stop (its rows went with it)."""
        self.drains.stop_app(app.name)
