"""Automated certificates: a server task that orders ACME certificates for the
custom domains of apps with certs:auto:enable, and renews them 30 days early."""
from __future__ import annotations

import asyncio
import datetime as dt

from hoist.logs.store import LogStore
from hoist.platform.certs import Certs
from hoist.platform.errors import PlatformError
from hoist.state import apps as apps_t
from hoist.state import domains as domains_t
from hoist.state.db import Database
from hoist.tls.acme import AcmeError, AcmeIssuer, next_check, renewal_due
from hoist.logs.line import PLATFORM


class AcmeStatus:
    """What the ACME task shares with the platform: a wake-up when an app enables ACM, and why orders failed."""

    def __init__(self) -> None:
        self.failures: dict[str, str] = {}  # hostname -> why the last ACME order failed
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def sleep(self, seconds: float) -> None:
        """Until woken, or `seconds` have passed."""
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    def awake(self) -> None:
        """The task looks now: a wake before this is answered by this look."""
        self._wake.clear()


class AcmeManager:
    """Looks at every ACM-enabled app's domains when woken, and on a timer."""

    def __init__(self, db: Database, certs: Certs, logs: LogStore, issuer: AcmeIssuer, status: AcmeStatus) -> None:
        self.db = db
        self.certs = certs
        self.logs = logs
        self.issuer = issuer
        self.status = status

    def due(self, now: dt.datetime) -> tuple[list[tuple[str, str]], list[dt.datetime | None]]:
        """(app, hostname) pairs needing a certificate now, and every managed domain's expiry."""
        todo: list[tuple[str, str]] = []
        expiries: list[dt.datetime | None] = []
        for app_id in domains_t.acm_apps(self.db):
            app = apps_t.get_app(self.db, app_id)
            if app is None:
                continue
            for host in domains_t.hostnames_of(self.db, app.name):
                found = self.certs.covering(app, host)
                not_after = found[1].not_after if found else None
                expiries.append(not_after)
                if renewal_due(not_after, now):
                    todo.append((app.name, host))
        return todo, expiries

    async def run_once(self) -> dt.datetime:
        """Order what is due; return when to look next."""
        now = dt.datetime.now(dt.timezone.utc)
        todo, expiries = self.due(now)
        failed = False
        failures = self.status.failures
        for app_name, host in todo:
            try:
                chain, key = await asyncio.to_thread(self.issuer.issue, [host])
                app = apps_t.get_app(self.db, app_name)
                if app is None or host not in domains_t.hostnames_of(self.db, app_name):
                    continue  # removed while the order ran
                self.certs.install(app, chain.decode(), key.decode(), source="acm")
                failures.pop(host, None)
                self.logs.emit(app_name, PLATFORM, "acm", f"certificate issued for {host}")
            except (AcmeError, PlatformError) as exc:
                failed = True
                failures[host] = str(getattr(exc, "message", exc))
                self.logs.emit(app_name, PLATFORM, "acm", f"certificate for {host} failed: {failures[host]}")
        return next_check(expiries if not todo else [], now, failed=failed)

    async def run(self) -> None:
        while True:
            self.status.awake()
            at = await self.run_once()
            await self.status.sleep(max(1.0, (at - dt.datetime.now(dt.timezone.utc)).total_seconds()))
