"""Custom domains and the automated-certificates switch (ACM) of an app: the control plane's
operations on them. Every change is published to the router (hosts: addresses.app_hosts)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hoist import names
from hoist.platform.acm import AcmeStatus
from hoist.platform.addresses import default_host
from hoist.platform.errors import PlatformError
from hoist.settings import Settings
from hoist.state import domains as domains_t
from hoist.state.apps import App
from hoist.state.db import Database

DEFAULT_KIND, CUSTOM_KIND = "heroku", "custom"


@dataclass(frozen=True)
class DomainView:
    """A domain as the API shows it: the app's default host or a custom one."""

    id: str
    hostname: str
    kind: str
    app: App
    created_at: str
    updated_at: str


class Domains:
    def __init__(self, settings: Settings, db: Database, publish: Callable[[], None], acme: AcmeStatus) -> None:
        self.settings = settings
        self.db = db
        self.publish = publish
        self.acme = acme

    def default_host(self, app: App) -> str:
        return default_host(self.settings, app.name)

    def list(self, app: App) -> list[DomainView]:
        default = DomainView(str(uuid.uuid5(uuid.NAMESPACE_URL, f"hoist:{app.id}:default")),
                             self.default_host(app), DEFAULT_KIND, app, app.created_at, app.created_at)
        return [default] + [DomainView(d.id, d.hostname, CUSTOM_KIND, app, d.created_at, d.updated_at)
                            for d in domains_t.list_domains(self.db, app.id)]

    def clean_hostname(self, raw: Any) -> str:
        """Lower-case and validate a hostname a user asked for; PlatformError if it cannot be a custom domain."""
        if not isinstance(raw, str):
            raise PlatformError("invalid_params", "hostname must be a string such as www.example.com.", 422, "domain")
        host = raw.strip().lower()
        try:
            names.hostname(host)
        except names.InvalidName as exc:
            raise PlatformError("invalid_params", str(exc), 422, "domain") from None
        base = self.settings.domain
        if base and (host == base or host.endswith("." + base)):
            raise PlatformError("invalid_params", f"{host} is under hoist's own domain {base}, where every app "
                                f"already has APP.{base}; add a domain outside it.", 422, "domain")
        return host

    def add(self, app: App, raw: Any) -> DomainView:
        host = self.clean_hostname(raw)
        try:
            d = domains_t.add_domain(self.db, app.id, host)
        except domains_t.DomainTaken:
            owner = domains_t.find_domain(self.db, host)
            if owner is not None and owner.app_id == app.id:
                raise PlatformError("invalid_params", f"{host} is already a domain of {app.name}; "
                                    "see `hoist domains`.", 422, "domain") from None
            raise PlatformError("conflict", f"{host} is already in use by another app. A domain is served by "
                                "exactly one app: remove it there first with `hoist domains:remove`.",
                                409, "domain") from None
        self.publish()
        return DomainView(d.id, d.hostname, CUSTOM_KIND, app, d.created_at, d.updated_at)

    def find(self, app: App, key: str) -> DomainView:
        for view in self.list(app):
            if key in (view.id, view.hostname) or (isinstance(key, str) and key.lower().rstrip(".") == view.hostname):
                return view
        raise PlatformError("not_found", f"Couldn't find that domain: {key!r} on {app.name}. "
                            "Run `hoist domains` to list them.", 404, "domain")

    def remove(self, app: App, key: str) -> DomainView:
        view = self.find(app, key)
        if view.kind == DEFAULT_KIND:
            raise PlatformError("invalid_params", f"{view.hostname} is {app.name}'s default address and cannot "
                                "be removed.", 422, "domain")
        domains_t.remove_domain(self.db, view.id)
        self.publish()
        return view

    def acm_enabled(self, app: App) -> bool:
        return domains_t.acm_enabled(self.db, app.id)

    def set_acm(self, app: App, on: bool) -> None:
        """certs:auto:enable|disable; enabling wakes the ACME task, which orders what the app's domains lack."""
        domains_t.set_acm(self.db, app.id, on)
        if on:
            self.acme.wake()
