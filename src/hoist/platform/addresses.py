"""Where an app and its git repository are reached: every host name routed to it, its web URL and git URL."""
from __future__ import annotations

from hoist.settings import Settings
from hoist.state import domains as domains_t
from hoist.state.db import Database


def default_host(settings: Settings, app: str) -> str:
    """APP.<HOIST_DOMAIN> when a domain is set, else APP.localhost (the CNAME target of custom domains)."""
    return f"{app}.{settings.domain}" if settings.domain else f"{app}.localhost"


def app_hosts(settings: Settings, db: Database, app: str) -> list[str]:
    """Every host the router sends to the app: APP.localhost, APP.<HOIST_DOMAIN>, and its custom domains."""
    hosts = [f"{app}.localhost"]
    if settings.domain:
        hosts.append(f"{app}.{settings.domain}")
    return hosts + domains_t.hostnames_of(db, app)


def _port(port: int) -> str:
    """`:PORT` in a URL, or nothing for HTTP's own port 80 (hoist run by root with HOIST_PORT=80)."""
    return "" if port == 80 else f":{port}"


def web_url(settings: Settings, app: str) -> str:
    return f"http://{default_host(settings, app)}{_port(settings.port)}/"


def git_url(settings: Settings, app: str) -> str:
    return f"http://localhost{_port(settings.port)}/{app}.git"
