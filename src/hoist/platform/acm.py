"""Automated certificates: a server task that orders ACME certificates for the
custom domains of apps with certs:auto:enable, and renews them 30 days early."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING

from hoist.platform import domains as core
from hoist.platform.platform import PlatformError
from hoist.state import apps as apps_t
from hoist.state import domains as domains_t
from hoist.tls.acme import AcmeError, AcmeIssuer, next_check, renewal_due

if TYPE_CHECKING:
    from hoist.platform.platform import Platform


class AcmeManager:
    """Looks at every ACM-enabled app's domains when woken, and on a timer."""

    def __init__(self, platform: Platform, issuer: AcmeIssuer) -> None:
        self.platform = platform
        self.issuer = issuer
        self._wake = asyncio.Event()
        platform.acme_wake = self._wake.set

    def due(self, now: dt.datetime) -> tuple[list[tuple[str, str]], list[dt.datetime | None]]:
        """(app, hostname) pairs needing a certificate now, and every managed domain's expiry."""
        p = self.platform
        todo: list[tuple[str, str]] = []
        expiries: list[dt.datetime | None] = []
        for app_id in domains_t.acm_apps(p.db):
            app = apps_t.get_app(p.db, app_id)
            if app is None:
                continue
            for host in domains_t.hostnames_of(p.db, app.name):
                found = core.endpoint_for(p, app, host)
                not_after = found[1].not_after if found else None
                expiries.append(not_after)
                if renewal_due(not_after, now):
                    todo.append((app.name, host))
        return todo, expiries

    async def run_once(self) -> dt.datetime:
        """Order what is due; return when to look next."""
        p = self.platform
        now = dt.datetime.now(dt.timezone.utc)
        todo, expiries = self.due(now)
        failed = False
        for app_name, host in todo:
            try:
                chain, key = await asyncio.to_thread(self.issuer.issue, [host])
                app = apps_t.get_app(p.db, app_name)
                if app is None or host not in domains_t.hostnames_of(p.db, app_name):
                    continue  # removed while the order ran
                core.install_cert(p, app, chain.decode(), key.decode(), source="acm")
                p.acme_failures.pop(host, None)
                p.logs.emit(app_name, "hoist", "acm", f"certificate issued for {host}")
            except (AcmeError, PlatformError) as exc:
                failed = True
                p.acme_failures[host] = str(getattr(exc, "message", exc))
                p.logs.emit(app_name, "hoist", "acm", f"certificate for {host} failed: {p.acme_failures[host]}")
        return next_check(expiries if not todo else [], now, failed=failed)

    async def run(self) -> None:
        while True:
            self._wake.clear()
            at = await self.run_once()
            delay = max(1.0, (at - dt.datetime.now(dt.timezone.utc)).total_seconds())
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except asyncio.TimeoutError:
                pass
