"""Custom domains, installed certificates and automated certificates (ACM):
the control plane's operations on them, next to Platform (which publishes
them to the router through app_hosts and tls_entries)."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hoist import names
from hoist.contracts.routes import TlsCert
from hoist.core.platform import PlatformError
from hoist.state import apps as apps_t
from hoist.state import domains as domains_t
from hoist.state.apps import App
from hoist.tls import certs as certs_t

if TYPE_CHECKING:
    from hoist.core.platform import Platform

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


def default_host(platform: Platform, app: App) -> str:
    domain = platform.settings.domain
    return f"{app.name}.{domain}" if domain else f"{app.name}.localhost"


def list_domains(platform: Platform, app: App) -> list[DomainView]:
    default = DomainView(str(uuid.uuid5(uuid.NAMESPACE_URL, f"hoist:{app.id}:default")),
                         default_host(platform, app), DEFAULT_KIND, app, app.created_at, app.created_at)
    return [default] + [DomainView(d.id, d.hostname, CUSTOM_KIND, app, d.created_at, d.updated_at)
                        for d in domains_t.list_domains(platform.db, app.id)]


def clean_hostname(platform: Platform, raw: Any) -> str:
    """Lower-case and validate a hostname a user asked for; PlatformError if it cannot be a custom domain."""
    if not isinstance(raw, str):
        raise PlatformError("invalid_params", "hostname must be a string such as www.example.com.", 422, "domain")
    host = raw.strip().lower()
    try:
        names.hostname(host)
    except names.InvalidName as exc:
        raise PlatformError("invalid_params", str(exc), 422, "domain") from None
    base = platform.settings.domain
    if base and (host == base or host.endswith("." + base)):
        raise PlatformError("invalid_params", f"{host} is under hoist's own domain {base}, where every app "
                            f"already has APP.{base}; add a domain outside it.", 422, "domain")
    return host


async def add_domain(platform: Platform, app: App, raw: Any) -> DomainView:
    host = clean_hostname(platform, raw)
    try:
        d = domains_t.add_domain(platform.db, app.id, host)
    except domains_t.DomainTaken:
        owner = domains_t.find_domain(platform.db, host)
        if owner is not None and owner.app_id == app.id:
            raise PlatformError("invalid_params", f"{host} is already a domain of {app.name}; "
                                "see `hoist domains`.", 422, "domain") from None
        raise PlatformError("conflict", f"{host} is already in use by another app. A domain is served by "
                            "exactly one app: remove it there first with `hoist domains:remove`.",
                            409, "domain") from None
    platform.publish_routes()
    return DomainView(d.id, d.hostname, CUSTOM_KIND, app, d.created_at, d.updated_at)


def find_domain(platform: Platform, app: App, key: str) -> DomainView:
    for view in list_domains(platform, app):
        if key in (view.id, view.hostname) or (isinstance(key, str) and key.lower().rstrip(".") == view.hostname):
            return view
    raise PlatformError("not_found", f"Couldn't find that domain: {key!r} on {app.name}. "
                        "Run `hoist domains` to list them.", 404, "domain")


async def remove_domain(platform: Platform, app: App, key: str) -> DomainView:
    view = find_domain(platform, app, key)
    if view.kind == DEFAULT_KIND:
        raise PlatformError("invalid_params", f"{view.hostname} is {app.name}'s default address and cannot "
                            "be removed.", 422, "domain")
    domains_t.remove_domain(platform.db, view.id)
    platform.publish_routes()
    return view


# ----- certificates -----

def cert_dir(platform: Platform, app: App, name: str) -> Any:
    return platform.paths.app(app.name) / "certs" / name


def endpoint_name(info: certs_t.CertInfo) -> str:
    """A stable, path-safe endpoint name from the certificate's first host name."""
    return re.sub(r"[^a-z0-9.-]", "_", info.names[0].replace("*", "wildcard"))[:100]


def install_cert(platform: Platform, app: App, chain: Any, key: Any, source: str = "manual",
                 domain: str | None = None) -> tuple[domains_t.SniEndpoint, certs_t.CertInfo]:
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
        if host not in domains_t.hostnames_of(platform.db, app.name):
            raise PlatformError("invalid_params", f"{host} is not a domain of {app.name}; add it first with "
                                f"`hoist domains:add {host}`.", 422, "sni_endpoint")
    name = endpoint_name(info)
    certs_t.save(cert_dir(platform, app, name), chain.encode(), key.encode())
    endpoint = domains_t.put_endpoint(platform.db, app.id, name, source)
    platform.publish_routes()
    return endpoint, info


def endpoints(platform: Platform, app: App) -> list[tuple[domains_t.SniEndpoint, certs_t.CertInfo]]:
    out = []
    for ep in domains_t.list_endpoints(platform.db, app.id):
        try:
            out.append((ep, certs_t.StoredCert(cert_dir(platform, app, ep.name)).info()))
        except (OSError, ValueError):
            continue  # its files were removed by hand: not served, not listed
    return out


def remove_cert(platform: Platform, app: App, key: str) -> domains_t.SniEndpoint:
    for ep in domains_t.list_endpoints(platform.db, app.id):
        if key in (ep.id, ep.name):
            domains_t.remove_endpoint(platform.db, ep.id)
            d = cert_dir(platform, app, ep.name)
            for f in ("cert.pem", "key.pem"):
                (d / f).unlink(missing_ok=True)
            platform.publish_routes()
            return ep
    raise PlatformError("not_found", f"Couldn't find that certificate: {key!r} on {app.name}. "
                        "Run `hoist certs` to list them.", 404, "sni_endpoint")


def endpoint_for(platform: Platform, app: App, host: str) -> tuple[domains_t.SniEndpoint, certs_t.CertInfo] | None:
    for ep, info in endpoints(platform, app):
        if info.covers(host):
            return ep, info
    return None


def tls_entries(platform: Platform) -> list[TlsCert]:
    """routes.json "tls.certs": each installed certificate with the app's own domains it covers.

    Only the owning app's domains are listed, so a certificate installed on one
    app can never be served for another app's domain."""
    out: list[TlsCert] = []
    for app in apps_t.list_apps(platform.db):
        hosts = domains_t.hostnames_of(platform.db, app.name)
        if not hosts:
            continue
        for ep, info in endpoints(platform, app):
            covered = [h for h in hosts if info.covers(h)]
            if covered:
                d = cert_dir(platform, app, ep.name)
                out.append(TlsCert(str(d / "cert.pem"), str(d / "key.pem"), tuple(covered)))
    return out
