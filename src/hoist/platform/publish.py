"""Publishing the route table: routes.json written from the supervisor's view and the
database, then a SIGHUP to the router so it reloads it (the format: contracts/routes.py)."""
from __future__ import annotations

import contextlib
import os
import signal

from hoist.contracts import routes
from hoist.paths import Paths
from hoist.platform.addresses import app_hosts
from hoist.platform.certs import tls_entries
from hoist.settings import Settings
from hoist.state import apps as apps_t
from hoist.state.db import Database


class RoutePublisher:
    """Writes the table: the supervisor hands it its view of web dynos whenever that changes, and the
    platform asks it again after every change of apps, domains, certificates and maintenance."""

    def __init__(self, settings: Settings, paths: Paths, db: Database, platform_url: str) -> None:
        self.settings = settings
        self.paths = paths
        self.db = db
        self.platform_url = platform_url  # the control plane's private address: the router's platform upstream
        self._router_pid: int | None = None

    def router_started(self, pid: int) -> None:
        """The router (re)started as `pid`: signal that one from now on."""
        self._router_pid = pid

    def publish(self, backends: routes.Backends) -> None:
        platform_hosts = ["localhost", "127.0.0.1", "[::1]"]
        if self.settings.domain:
            platform_hosts.append(self.settings.domain)
        all_apps = apps_t.list_apps(self.db)
        table = routes.build(
            platform_hosts=platform_hosts, platform_upstream=self.platform_url.removeprefix("http://"),
            request_timeout=self.settings.request_timeout, backends=backends,
            app_hosts=lambda app: app_hosts(self.settings, self.db, app),
            maintenance=[a.name for a in all_apps if a.maintenance],
            app_names=[a.name for a in all_apps], tls=tls_entries(self.db, self.paths),
        )
        routes.write(self.paths.routes, table)
        if self._router_pid:  # SIGHUP: the router reloads its table
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._router_pid, signal.SIGHUP)
