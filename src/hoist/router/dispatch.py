"""Choosing and connecting to a backend for a request: pooled or fresh connections,
fallback to the next backend, connect timeouts (H19) and one retry of a bodiless
idempotent request whose backend closed before answering."""
from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from hoist.router import pages
from hoist.router.table import Backend
from hoist.router.upstream import Upstream

if TYPE_CHECKING:
    from hoist.router.relay import Request
    from hoist.router.server import Router

CONNECT_TIMEOUT = 5.0


class BackendDispatch:
    """Mixed into ClientConnection: gets the current request an upstream connection."""

    loop: asyncio.AbstractEventLoop
    router: Router
    req: Request | None
    closed: bool
    upstream: Upstream | None
    connecting: Upstream | None
    backends: tuple[Backend, ...] | list[Backend]
    bidx: int
    attempts: int
    retried: bool
    req_timeout: float | None
    fail_code: str
    connect_s: float | None
    t_connect: float

    if TYPE_CHECKING:  # provided by ClientConnection and ResponseRelay (not stubs: MRO)
        def _attach(self, up: Upstream) -> None: ...
        def _error(self, err: pages.RouterError, close: bool = False,
                   keep_backend: bool = False) -> None: ...
        def _arm_timer(self, seconds: float) -> None: ...
        def _cancel_timer(self) -> None: ...
        def _on_timeout(self) -> None: ...

    def _connect(self, backends: tuple[Backend, ...] | list[Backend], start: int,
                 timeout: float | None) -> None:
        """Send the request to backends[start], falling back to the others in turn."""
        self.backends = backends
        self.req_timeout = timeout
        self.attempts = 0
        self.retried = False
        self.fail_code = "H10"
        self._connect_to(start, pooled=True)

    def _connect_to(self, i: int, pooled: bool) -> None:
        b = self.backends[i]
        self.bidx = i
        key = (b.host, b.port)
        if pooled:
            up = self.router.pool.acquire(key, self.loop.time())
            if up is not None:
                self.connect_s = 0.0
                self._attach(up)
                return
        # Protocol callbacks, not a coroutine: connection_made calls upstream_connected.
        up = Upstream(key, self.router.pool)
        up.client = self  # type: ignore[assignment]
        self.connecting = up
        self.t_connect = time.monotonic()
        self._cancel_timer()
        self._arm_timer(CONNECT_TIMEOUT)
        up.connect(self.loop, b.host, b.port)

    def upstream_connected(self, up: Upstream) -> None:
        if up is not self.connecting or self.closed or self.req is None:
            up.abort()
            return
        self.connecting = None
        self.connect_s = time.monotonic() - self.t_connect
        self._attach(up)

    def connect_failed(self, up: Upstream, exc: BaseException) -> None:
        if up is not self.connecting:
            return
        self.connecting = None
        b = self.backends[self.bidx]
        self.router.warn(f"connect to {b.dyno} at {b.host}:{b.port} failed: {exc!r}")
        self._next_backend()

    def on_timer(self) -> None:
        """The connect or response wait armed by _arm_timer ran out."""
        self._cancel_timer()
        if self.connecting is not None:
            self._on_connect_timeout()
        else:
            self._on_timeout()

    def _on_connect_timeout(self) -> None:
        up, self.connecting = self.connecting, None
        if up is None:
            return
        up.abort()
        b = self.backends[self.bidx]
        self.router.warn(f"connect to {b.dyno} at {b.host}:{b.port} timed out "
                         f"after {CONNECT_TIMEOUT:g}s")
        self.fail_code = "H19"
        self._next_backend()

    def _next_backend(self) -> None:
        self.attempts += 1
        n = len(self.backends)
        if self.closed or self.req is None:
            return
        if self.attempts < n:
            self._connect_to((self.bidx + 1) % n, pooled=False)
        else:
            self._cancel_timer()
            self._error(pages.ERRORS[self.fail_code])

    def retry(self, up: Upstream) -> bool:
        """Send again, once, a bodiless idempotent request whose backend closed before
        answering (a stale pooled connection, a killed dyno's queued connection)."""
        req = self.req
        if self.retried or req is None or not req.body_done or req.body_seen \
                or req.chunked or req.method not in (b"GET", b"HEAD", b"OPTIONS"):
            return False
        self.retried = True
        self.upstream = None
        n = len(self.backends)
        # A stale pooled connection: the same backend, freshly; else the next backend.
        nxt = self.bidx if up.reused or n == 1 else (self.bidx + 1) % n
        self._connect_to(nxt, pooled=False)
        return True
