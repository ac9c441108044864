"""What the add-on operations (platform/addons.py) and Postgres backups (platform/pgbackups.py) share: what they
need from the platform, finding an app's add-on and its URL, and the errors add-on requests are answered with."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from hoist.addons import plans
from hoist.contracts.release import RunRelease
from hoist.dynos.supervisor import DeployResult
from hoist.logs.store import LogStore
from hoist.paths import Paths
from hoist.platform.errors import PlatformError
from hoist.state import addons as addons_t
from hoist.state import config as config_t
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.state.releases import Release
from hoist.state.users import User


class AddonPlatform(Protocol):
    """The platform as add-ons see it: where apps live, their logs and activity, and config changes (each
    one a release). platform/releases.py provides it; it is built before the add-ons, the facade after."""

    @property
    def db(self) -> Database: ...

    @property
    def paths(self) -> Paths: ...

    @property
    def logs(self) -> LogStore: ...

    async def set_config(self, app: App, changes: Mapping[str, str | None], user: User,
                         description: str | None = None) -> tuple[dict[str, str], Release, DeployResult]: ...

    def audit(self, app: App, user: User | str, action: str, detail: str = "") -> None: ...

    def run_release(self, app: App, rel: Release) -> RunRelease | None: ...


def failed(exc: Exception, status: int = 503) -> PlatformError:
    return PlatformError("addon_error" if status >= 500 else "invalid_params", str(exc), status, "addon")


def not_found(ref: str, app: str) -> PlatformError:
    return PlatformError("not_found", f"Couldn't find add-on {ref!r} on {app}. Run `hoist addons -a {app}` "
                         "to list them.", 404, "addon")


def resolve(db: Database, app: App, ref: str, service: str | None = None) -> Addon:
    """An add-on of `app` by name, id, attachment (DATABASE) or var (DATABASE_URL, HEROKU_POSTGRESQL_RED_URL)."""
    addons = [a for a in addons_t.list_addons(db, app.id) if service is None or a.service == service]
    for a in addons:
        if ref in (a.name, a.id):
            return a
    var = plans.var_for(ref)
    for a in addons:
        if var in a.config_vars:
            return a
    raise not_found(ref, app.name)


def config_url(db: Database, app: App, addon: Addon) -> str:
    """The add-on's connection URL, as the app sees it in its config."""
    config = config_t.get_config(db, app.id)
    for var in addon.config_vars:
        if config.get(var):
            return config[var]
    raise PlatformError("invalid_params", f"{addon.name}'s config var is missing from {app.name}'s config; "
                        f"run `hoist pg:credentials:rotate {addon.name} -a {app.name}` to set it again.",
                        422, "addon")


def need_postgres(addon: Addon) -> None:
    """Refuse a Postgres operation on another kind of add-on."""
    if addon.service != plans.POSTGRES:
        raise PlatformError("invalid_params", f"{addon.name} is a {addon.service} add-on, not Postgres; "
                            "name a Postgres add-on (see `hoist addons`).", 422, "addon")
