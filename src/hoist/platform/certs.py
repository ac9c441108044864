"""Installed certificates (certs:add, and those ACM orders): checked, stored under the app, and served
by the router for the app's own domains they cover (`tls_entries`, read when the table is published)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hoist.contracts.routes import TlsCert
from hoist.paths import Paths
from hoist.platform.errors import PlatformError
from hoist.state import apps as apps_t
from hoist.state import domains as domains_t
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.tls import certs as certs_t

Installed = tuple[domains_t.SniEndpoint, certs_t.CertInfo]


def cert_dir(paths: Paths, app: App, name: str) -> Path:
    return paths.app(app.name) / "certs" / name


def endpoint_name(info: certs_t.CertInfo) -> str:
    """A stable, path-safe endpoint name from the certificate's first host name."""
    return re.sub(r"[^a-z0-9.-]", "_", info.names[0].replace("*", "wildcard"))[:100]


def endpoints(db: Database, paths: Paths, app: App) -> list[Installed]:
    out = []
    for ep in domains_t.list_endpoints(db, app.id):
        try:
            out.append((ep, certs_t.StoredCert(cert_dir(paths, app, ep.name)).info()))
        except (OSError, ValueError):
            continue  # its files were removed by hand: not served, not listed
    return out


def tls_entries(db: Database, paths: Paths) -> list[TlsCert]:
    """routes.json "tls.certs": each installed certificate with the app's own domains it covers.

    Only the owning app's domains are listed, so a certificate installed on one
    app can never be served for another app's domain."""
    out: list[TlsCert] = []
    for app in apps_t.list_apps(db):
        hosts = domains_t.hostnames_of(db, app.name)
        if not hosts:
            continue
        for ep, info in endpoints(db, paths, app):
            covered = [h for h in hosts if info.covers(h)]
            if covered:
                d = cert_dir(paths, app, ep.name)
                out.append(TlsCert(str(d / "cert.pem"), str(d / "key.pem"), tuple(covered)))
    return out


class Certs:
    """An app's certificates; every change is published to the router."""

    def __init__(self, paths: Paths, db: Database, publish: Callable[[], None]) -> None:
        self.paths = paths
        self.db = db
        self.publish = publish

    def list(self, app: App) -> list[Installed]:
        return endpoints(self.db, self.paths, app)

    def covering(self, app: App, host: str) -> Installed | None:
        """The installed certificate served for `host`, if any."""
        for ep, info in self.list(app):
            if info.covers(host):
                return ep, info
        return None

    def install(self, app: App, chain: Any, key: Any, source: str = "manual",
                domain: str | None = None) -> Installed:
        """Check and store a certificate for the app; it is served for the app's domains it covers."""
        if not isinstance(chain, str) or not isinstance(key, str):
            raise PlatformError("invalid_params", "Send certificate_chain and private_key as PEM strings.",
                                422, "sni_endpoint")
        try:
            info = certs_t.check_pair(chain.encode(), key.encode(), dt.datetime.now(dt.timezone.utc))
        except certs_t.CertError as exc:
            raise PlatformError("invalid_params", str(exc), 422, "sni_endpoint") from None
        if domain is not None:
            host = domain.strip().lower().rstrip(".")
            if not info.covers(host):
                raise PlatformError("invalid_params", f"The certificate is for {', '.join(info.names)}, not {host}. "
                                    "Pass the certificate issued for that domain.", 422, "sni_endpoint")
            if host not in domains_t.hostnames_of(self.db, app.name):
                raise PlatformError("invalid_params", f"{host} is not a domain of {app.name}; add it first with "
                                    f"`hoist domains:add {host}`.", 422, "sni_endpoint")
        name = endpoint_name(info)
        certs_t.save(cert_dir(self.paths, app, name), chain.encode(), key.encode())
        endpoint = domains_t.put_endpoint(self.db, app.id, name, source)
        self.publish()
        return endpoint, info

    def remove(self, app: App, key: str) -> domains_t.SniEndpoint:
        for ep in domains_t.list_endpoints(self.db, app.id):
            if key in (ep.id, ep.name):
                domains_t.remove_endpoint(self.db, ep.id)
                d = cert_dir(self.paths, app, ep.name)
                for f in ("cert.pem", "key.pem"):
                    (d / f).unlink(missing_ok=True)
                self.publish()
                return ep
        raise PlatformError("not_found", f"Couldn't find that certificate: {key!r} on {app.name}. "
                            "Run `hoist certs` to list them.", 404, "sni_endpoint")
