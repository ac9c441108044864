"""The routing table the router reads: built from the supervisor's view
(pure), written atomically, then the router is told to reload (SIGHUP)."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping


def build_table(
    *, platform_hosts: Iterable[str], platform_upstream: str, request_timeout: float,
    backends: Mapping[str, tuple[str, list[tuple[str, int]]]], app_hosts: Callable[[str], list[str]],
    maintenance: Iterable[str] = (), app_names: Iterable[str] = (), tls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The routes.json document for every known app (apps with no dynos route to H14)."""
    in_maintenance = set(maintenance)
    apps: dict[str, Any] = {}
    for app in sorted(set(app_names) | set(backends)):
        state, ups = backends.get(app, ("none", []))
        apps[app] = {
            "hosts": app_hosts(app),
            "maintenance": app in in_maintenance,
            "state": state,
            "backends": [{"dyno": dyno, "addr": f"127.0.0.1:{port}"} for dyno, port in ups],
        }
    return {
        "platform": {"hosts": sorted(set(platform_hosts)), "upstream": platform_upstream},
        "request_timeout": request_timeout,
        "apps": apps,
        "tls": {"certs": tls or []},
    }


def write_table(path: Path, table: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(table, indent=1))
    os.replace(tmp, path)


def notify(pid: int | None) -> None:
    if pid:
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            pass
