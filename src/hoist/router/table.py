"""The routing table: parse routes.json and look up a Host header (pure)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATES = ("up", "crashed", "none", "starting", "idle")


@dataclass(frozen=True, slots=True)
class Backend:
    """One web dyno the router can send requests to."""

    dyno: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class AppRoute:
    """Where an app's requests go, and what to say when they cannot go anywhere."""

    name: str
    hosts: tuple[str, ...]
    backends: tuple[Backend, ...]
    state: str = "up"
    maintenance: bool = False


@dataclass(frozen=True, slots=True)
class PlatformRoute:
    """The control plane (API + git smart HTTP): streamed, no request timeout."""

    hosts: tuple[str, ...]
    upstream: Backend | None


@dataclass(frozen=True, slots=True)
class RouteTable:
    """An immutable snapshot; a reload builds a new one and swaps it in."""

    platform: PlatformRoute = field(default_factory=lambda: PlatformRoute((), None))
    request_timeout: float = 30.0
    apps: dict[str, AppRoute] = field(default_factory=dict)
    by_host: dict[str, AppRoute | PlatformRoute] = field(default_factory=dict)
    certs: tuple[dict[str, Any], ...] = ()  # installed certificates: {"cert", "key", "hosts"?}

    def lookup(self, raw_host: bytes | str | None) -> AppRoute | PlatformRoute | None:
        """The route for a Host header value, or None for an unknown host."""
        if not raw_host:
            return None
        return self.by_host.get(normalize_host(raw_host))


def normalize_host(raw: bytes | str) -> str:
    """Lower-case a Host value and strip its port and trailing dot."""
    host = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal: the port follows the bracket
        end = host.find("]")
        host = host[: end + 1] if end != -1 else host
    else:
        host = host.rsplit(":", 1)[0] if ":" in host else host
    return host.rstrip(".")


def parse_addr(addr: str) -> tuple[str, int]:
    """Split "host:port" into its parts; raise ValueError if it is not one."""
    host, sep, port = str(addr).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad address {addr!r}: expected host:port")
    return host.strip("[]"), int(port)


def _backend(entry: Any, default_dyno: str) -> Backend:
    if isinstance(entry, str):
        entry = {"addr": entry}
    if not isinstance(entry, dict):
        raise ValueError(f"bad backend {entry!r}: expected {{'dyno':..., 'addr':...}}")
    host, port = parse_addr(entry["addr"])
    return Backend(str(entry.get("dyno") or default_dyno), host, port)


def _hosts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"bad hosts {value!r}: expected a list of names")
    return tuple(normalize_host(str(h)) for h in value)


def parse_table(data: Any) -> RouteTable:
    """Build a RouteTable from decoded routes.json; raise ValueError if malformed."""
    try:
        return _parse_table(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed routes: {exc!r}") from exc


def _parse_table(data: Any) -> RouteTable:
    if not isinstance(data, dict):
        raise ValueError("routes must be a JSON object")
    by_host: dict[str, AppRoute | PlatformRoute] = {}
    raw_platform = data.get("platform") or {}
    upstream = raw_platform.get("upstream")
    platform = PlatformRoute(
        _hosts(raw_platform.get("hosts", [])),
        _backend({"dyno": "platform", "addr": upstream}, "platform") if upstream else None,
    )
    for host in platform.hosts:
        by_host[host] = platform
    apps: dict[str, AppRoute] = {}
    raw_apps = data.get("apps", {})
    if not isinstance(raw_apps, dict):
        raise ValueError("apps must be an object keyed by app name")
    for name, spec in raw_apps.items():
        if not isinstance(spec, dict):
            raise ValueError(f"app {name!r}: expected an object")
        backends = tuple(
            _backend(b, f"web.{i + 1}") for i, b in enumerate(spec.get("backends") or [])
        )
        state = str(spec.get("state") or ("up" if backends else "none"))
        if state not in STATES:
            raise ValueError(f"app {name!r}: state {state!r} is not one of {STATES}")
        app = AppRoute(str(name), _hosts(spec.get("hosts", [])), backends, state,
                       bool(spec.get("maintenance", False)))
        apps[app.name] = app
        for host in app.hosts:
            by_host.setdefault(host, app)  # platform hosts win over app hosts
    timeout = float(data.get("request_timeout", 30))
    if timeout <= 0:
        raise ValueError("request_timeout must be positive")
    raw_tls = data.get("tls") or {}
    certs = tuple({"cert": str(c["cert"]), "key": str(c["key"]),
                   "hosts": [normalize_host(str(h)) for h in c.get("hosts") or []]}
                  for c in raw_tls.get("certs", []))
    return RouteTable(platform, timeout, apps, by_host, certs)


def load_table(path: str | Path) -> RouteTable:
    """Read and parse a routes file; raise OSError or ValueError on failure."""
    with open(path, "rb") as f:
        return parse_table(json.loads(f.read()))
