"""Choosing and connecting to a backend for a request: pooled or fresh connections,
fallback to the next backend, connect timeouts (H19) and one retry of a bodiless
idempotent request whose backend closed before answering."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from hoist.contracts.routes import Backend
from hoist.router import pages
from hoist.router.request import Request
from hoist.router.state import Router
from hoist.router.upstream import Upstream

CONNECT_TIMEOUT = 5.0


class Dispatch:
    """Gets one connection's current request an upstream connection, or gives up.

    It hands a connected upstream to `attach(up, backend, connect_seconds)`, or the
    error page to answer with to `unreachable(err)` once every backend failed."""

    __slots__ = ("router", "attach", "unreachable", "backends", "bidx", "attempts", "retried",
                 "fail_code", "connecting", "t_connect", "timer")

    def __init__(self, router: Router, attach: Callable[[Upstream, Backend, float], None],
                 unreachable: Callable[[pages.RouterError], None]) -> None:
        self.router = router
        self.attach = attach
        self.unreachable = unreachable
        self.backends: Sequence[Backend] = ()
        self.bidx = 0
        self.attempts = 0
        self.retried = False
        self.fail_code = "H10"
        self.connecting: Upstream | None = None
        self.t_connect = 0.0
        self.timer = 0.0  # deadline (loop time) of the connect, checked by the router's sweep

    def detach(self) -> None:
        """Drop the callbacks into the exchange (a reference cycle) when the client is gone."""
        self.cancel()
        self.attach = self.unreachable = _gone

    def connect(self, backends: Sequence[Backend], start: int) -> None:
        """Send the request to backends[start], falling back to the others in turn."""
        self.backends = backends
        self.attempts = 0
        self.retried = False
        self.fail_code = "H10"
        self._connect_to(start, pooled=True)

    def cancel(self) -> None:
        """Stop connecting: the request is answered or its client is gone."""
        self._cancel_timer()
        up, self.connecting = self.connecting, None
        if up is not None:
            up.abort()

    def _connect_to(self, i: int, pooled: bool) -> None:
        b = self.backends[i]
        self.bidx = i
        key = (b.host, b.port)
        router = self.router
        if pooled:
            up = router.pool.acquire(key, router.loop.time())
            if up is not None:
                if self.timer:
                    self._cancel_timer()
                self.attach(up, b, 0.0)
                return
        # Protocol callbacks, not a coroutine: connection_made calls upstream_connected.
        up = Upstream(key, router.pool)
        self.connecting = up
        self.t_connect = time.monotonic()
        self._arm_timer(CONNECT_TIMEOUT)
        up.connect(router.loop, b.host, b.port, self)

    def upstream_connected(self, up: Upstream) -> None:
        if up is not self.connecting:
            up.abort()
            return
        self.connecting = None
        self._cancel_timer()
        self.attach(up, self.backends[self.bidx], time.monotonic() - self.t_connect)

    def connect_failed(self, up: Upstream, exc: BaseException) -> None:
        if up is not self.connecting:
            return
        self.connecting = None
        b = self.backends[self.bidx]
        self.router.warn(f"connect to {b.dyno} at {b.host}:{b.port} failed: {exc!r}")
        self._next_backend()

    def on_timer(self) -> None:
        """The connect armed by _connect_to ran out (H19 if no backend is left)."""
        self._cancel_timer()
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
        if self.attempts < n:
            self._connect_to((self.bidx + 1) % n, pooled=False)
        else:
            self._cancel_timer()
            self.unreachable(pages.ERRORS[self.fail_code])

    def retry(self, up: Upstream, req: Request) -> bool:
        """Send again, once, a bodiless idempotent request whose backend closed before
        answering (a stale pooled connection, a killed dyno's queued connection)."""
        if self.retried or not req.body_done or req.body_seen \
                or req.chunked or req.method not in (b"GET", b"HEAD", b"OPTIONS"):
            return False
        self.retried = True
        n = len(self.backends)
        # A stale pooled connection: the same backend, freshly; else the next backend.
        nxt = self.bidx if up.reused or n == 1 else (self.bidx + 1) % n
        self._connect_to(nxt, pooled=False)
        return True

    def _arm_timer(self, seconds: float) -> None:
        """Time out the connect after seconds: cheaper than a loop timer per request."""
        self.timer = self.router.loop.time() + seconds
        self.router.waiting.add(self)

    def _cancel_timer(self) -> None:
        if self.timer:
            self.timer = 0.0
            self.router.waiting.discard(self)


def _gone(*_args: object) -> None:
    """Stands in for the callbacks of an exchange whose client has gone."""
