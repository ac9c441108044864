"""Finding an app's add-on and its URL, and the errors the platform answers add-on requests with; shared by
the add-on operations (core/addons.py) and Postgres backups (core/pgbackups.py)."""
from __future__ import annotations

from hoist.addons import plans
from hoist.core.platform import PlatformError
from hoist.state import addons as addons_t
from hoist.state import config as config_t
from hoist.state.addons import Addon
from hoist.state.apps import App
from hoist.state.db import Database


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
