"""The route table (routes.json): what the platform publishes and the router reads.

One owner for the format: the platform builds a RouteTable from the supervisor's
view (`build`, pure) and writes it atomically (`write`); the router reads it
(`read`, or `load` to keep the last good table) and looks Host headers up in
it. `dump` and `parse` are the pure halves of the JSON. The field names on disk
are the format's contract: a router of an older hoist reads what this writes.

    {"platform": {"hosts": [...], "upstream": "unix:/HOIST_HOME/run/api.sock"},
     "request_timeout": 30,
     "apps": {"APP": {"hosts": [...], "maintenance": false, "state": "up",
                      "backends": [{"dyno": "web.1", "addr": "127.0.0.1:PORT"}]}},
     "tls": {"certs": [{"cert": "/path/cert.pem", "key": "/path/key.pem", "hosts": [...]}]}}
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATES = ("up", "crashed", "none", "starting", "idle")

# The supervisor's view, handed to the platform whenever it changes: per app, its routing
# state (one of STATES) and the (dyno, host, port) of its up web dynos (host: 127.0.0.1 for a
# dyno on this machine; a swarm dyno's task's node address, which the router connects to directly).
Backends = Mapping[str, tuple[str, list[tuple[str, str, int]]]]


@dataclass(frozen=True, slots=True)
class Backend:
    """One web dyno the router can send requests to."""

    dyno: str
    host: str
    port: int

    @property
    def addr(self) -> str:
        """"host:port" as routes.json writes it (IPv6 hosts in brackets); "unix:PATH" for a Unix socket."""
        if self.unix:
            return f"unix:{self.host}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def unix(self) -> bool:
        """A Unix socket at the path `host` (the platform's internal API; port 0)."""
        return self.port == 0 and self.host.startswith("/")


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
class TlsCert:
    """An installed certificate and the hosts it is served for (none: the cert's own names)."""

    cert: str
    key: str
    hosts: tuple[str, ...] = ()


def _no_platform() -> PlatformRoute:
    return PlatformRoute((), None)


@dataclass(frozen=True, slots=True)
class RouteTable:
    """An immutable snapshot; a reload builds a new one and swaps it in."""

    platform: PlatformRoute = field(default_factory=_no_platform)
    request_timeout: float = 30.0
    apps: dict[str, AppRoute] = field(default_factory=dict)
    certs: tuple[TlsCert, ...] = ()
    # Derived from platform and apps: every host's route (platform hosts win over app hosts).
    by_host: dict[str, AppRoute | PlatformRoute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_host: dict[str, AppRoute | PlatformRoute] = dict.fromkeys(self.platform.hosts, self.platform)
        for app in self.apps.values():
            for host in app.hosts:
                by_host.setdefault(host, app)
        object.__setattr__(self, "by_host", by_host)

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
    """Split "host:port" into its parts ("unix:/path" -> ("/path", 0)); raise ValueError if it is not one."""
    if str(addr).startswith("unix:/"):
        return str(addr)[5:], 0
    host, sep, port = str(addr).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad address {addr!r}: expected host:port")
    return host.strip("[]"), int(port)


# --- writing: the platform's side -------------------------------------------------------

def build(
    *, platform_hosts: Iterable[str], platform_upstream: str, request_timeout: float,
    backends: Backends, app_hosts: Callable[[str], list[str]],
    maintenance: Iterable[str] = (), app_names: Iterable[str] = (), tls: Iterable[TlsCert] = (),
) -> RouteTable:
    """The table for every known app from the supervisor's view (pure).

    `backends` maps an app to its routing state and the (dyno, host, port) of its up web
    dynos; a known app with no entry routes to H14 (state "none")."""
    in_maintenance = set(maintenance)
    apps: dict[str, AppRoute] = {}
    for app in sorted(set(app_names) | set(backends)):
        state, ups = backends.get(app, ("none", []))
        apps[app] = AppRoute(app, _normalized(app_hosts(app)),
                             tuple(Backend(dyno, host, port) for dyno, host, port in ups),
                             state, app in in_maintenance)
    upstream = Backend("platform", *parse_addr(platform_upstream)) if platform_upstream else None
    platform = PlatformRoute(tuple(sorted(set(_normalized(platform_hosts)))), upstream)
    return RouteTable(platform, request_timeout, apps, tuple(tls))


def dump(table: RouteTable) -> dict[str, Any]:
    """The JSON document for a table (pure)."""
    upstream = table.platform.upstream
    return {
        "platform": {"hosts": list(table.platform.hosts), "upstream": upstream.addr if upstream else None},
        "request_timeout": table.request_timeout,
        "apps": {name: {"hosts": list(app.hosts), "maintenance": app.maintenance, "state": app.state,
                        "backends": [{"dyno": b.dyno, "addr": b.addr} for b in app.backends]}
                 for name, app in table.apps.items()},
        "tls": {"certs": [{"cert": c.cert, "key": c.key, "hosts": list(c.hosts)} for c in table.certs]},
    }


def write(path: Path, table: RouteTable) -> None:
    """Write the table so a reader sees the old file or the new one, never half of one. Readable by its
    owner alone (hoist and its router): it lists every app and every backend port."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(dump(table), indent=1))
    os.chmod(tmp, 0o600)  # an older hoist's tmp file may be there with another mode
    os.replace(tmp, path)


# --- reading: the router's side ---------------------------------------------------------

def parse(data: Any) -> RouteTable:
    """A RouteTable from decoded routes.json; raise ValueError if it is malformed (pure)."""
    try:
        return _parse(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed routes: {exc!r}") from exc


def read(path: str | Path) -> RouteTable:
    """Read and parse a routes file; raise OSError or ValueError on failure."""
    with open(path, "rb") as f:
        return parse(json.loads(f.read()))


def load(path: Path, last: RouteTable, warn: Callable[[str], None]) -> RouteTable:
    """The table in path; `last` (the last good one), with a warning saying why, if it
    cannot be read. The result `is last` exactly when nothing new was loaded."""
    try:
        return read(path)
    except FileNotFoundError:
        if not last.by_host:
            warn(f"{path} does not exist yet; routing table is empty")
        else:
            warn(f"{path} is missing; keeping the last good routing table")
    except (OSError, ValueError) as exc:
        warn(f"cannot load {path} ({exc}); keeping the last good table")
    return last


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
    return _normalized(value)


def _normalized(hosts: Iterable[Any]) -> tuple[str, ...]:
    return tuple(normalize_host(str(h)) for h in hosts)


def _parse(data: Any) -> RouteTable:
    if not isinstance(data, dict):
        raise ValueError("routes must be a JSON object")
    raw_platform = data.get("platform") or {}
    upstream = raw_platform.get("upstream")
    platform = PlatformRoute(
        _hosts(raw_platform.get("hosts", [])),
        _backend({"dyno": "platform", "addr": upstream}, "platform") if upstream else None,
    )
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
    timeout = float(data.get("request_timeout", 30))
    if timeout <= 0:
        raise ValueError("request_timeout must be positive")
    raw_tls = data.get("tls") or {}
    certs = tuple(TlsCert(str(c["cert"]), str(c["key"]), _normalized(c.get("hosts") or []))
                  for c in raw_tls.get("certs", []))
    return RouteTable(platform, timeout, apps, certs)
