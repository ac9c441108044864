"""Waking a sleeping app: the router holds the request, asks the platform
to start the app's web dynos, and proxies once the reloaded table shows them.

The platform answers `POST /internal/wake/APP` only with the secret the
server handed to this process in its environment."""
from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from hoist.contracts.routes import AppRoute, RouteTable
from hoist.procs import write_private

WAKE_SECRET_ENV = "HOIST_WAKE_SECRET"
WAKE_TIMEOUT = 75.0  # Heroku's H20 (app boot timeout) limit
TABLE_POLL = 0.01


def load_secret(path: Path) -> str:
    """The router's wake secret, made once and kept (mode 0600): a router adopted by a restarted hoist has it."""
    try:
        secret = path.read_text().strip()
    except OSError:
        secret = ""
    if len(secret) < 32:
        secret = secrets.token_urlsafe(32)
        write_private(path, secret + "\n")
    return secret


def wake_request(app: str, secret: str) -> bytes:
    """The HTTP request that asks the platform to wake `app`. Pure."""
    return (f"POST /internal/wake/{app} HTTP/1.1\r\nHost: hoist-internal\r\n"
            f"X-Hoist-Wake-Secret: {secret}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode()


class Waker:
    """One wake per app at a time; every request that waits for it shares the outcome."""

    def __init__(self, table: Callable[[], RouteTable], warn: Callable[[str], None],
                 secret: str | None = None) -> None:
        self.table = table  # the router's current table (reloaded on SIGHUP)
        self.warn = warn
        self.secret = secret if secret is not None else os.environ.get(WAKE_SECRET_ENV, "")
        self._inflight: dict[str, asyncio.Task[AppRoute | None]] = {}

    async def wake(self, app: str) -> AppRoute | None:
        """The app's route with backends once it is up; None if it could not be woken."""
        task = self._inflight.get(app)
        if task is None:
            task = asyncio.ensure_future(self._wake(app))
            self._inflight[app] = task
            task.add_done_callback(lambda _t: self._inflight.pop(app, None))
        return await asyncio.shield(task)

    async def _wake(self, app: str) -> AppRoute | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAKE_TIMEOUT
        try:
            async with asyncio.timeout(WAKE_TIMEOUT):
                if not await self._ask(app):
                    return None
                # The platform has republished the table; wait for our reload (SIGHUP).
                while loop.time() < deadline:
                    route = self.table().apps.get(app)
                    if route is not None and route.backends:
                        return route
                    if route is None or route.state not in ("idle", "starting"):
                        return None
                    await asyncio.sleep(TABLE_POLL)
        except (OSError, TimeoutError) as exc:
            self.warn(f"waking {app} failed: {exc!r}")
        return None

    async def _ask(self, app: str) -> bool:
        upstream = self.table().platform.upstream
        if upstream is None or not self.secret:
            self.warn(f"cannot wake {app}: no platform upstream or wake secret")
            return False
        if upstream.unix:
            reader, writer = await asyncio.open_unix_connection(upstream.host)
        else:
            reader, writer = await asyncio.open_connection(upstream.host, upstream.port)
        try:
            writer.write(wake_request(app, self.secret))
            await writer.drain()
            status = await reader.readline()
            ok = status.split(None, 2)[1:2] == [b"200"]
            if not ok:
                self.warn(f"the platform refused to wake {app}: {status.decode('latin-1').strip()}")
            return ok
        finally:
            writer.close()
