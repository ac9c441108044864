"""The response half of a proxied exchange: upstream head/body/close back to the client."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from hoist.router import pages
from hoist.router.headers import build_response_head

if TYPE_CHECKING:
    from hoist.router.server import Router
    from hoist.router.table import AppRoute, Backend
    from hoist.router.upstream import Upstream


class Request:
    """A parsed request head and the part of its body not yet sent upstream."""

    __slots__ = ("method", "url", "headers", "host", "request_id", "keep_alive", "upgrade",
                 "chunked", "expect", "body", "buffered", "body_done", "body_seen", "http10", "t0")

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.host: bytes | None = None
        self.request_id: bytes | None = None
        self.upgrade: bytes | None = None
        self.chunked = False
        self.expect = False
        self.body: list[bytes] = []
        self.buffered = 0
        self.body_done = True  # until a Content-Length or chunked framing says otherwise
        self.body_seen = False  # some body arrived (a request with a body is never retried)
        self.method = b""
        self.keep_alive = True
        self.http10 = False
        self.t0 = 0.0



class ResponseRelay:
    """Mixed into ClientConnection: relays what the upstream sends, and its failures."""

    transport: asyncio.Transport | None
    loop: asyncio.AbstractEventLoop
    req: Request | None
    upstream: Upstream | None
    app: AppRoute | None
    backend: Backend | None
    status: int
    head_sent: bool
    chunked_out: bool
    until_close: bool
    close_after: bool
    nbytes: int
    tunnel: bool
    tunnel_pending: list[bytes]
    timer: float  # deadline (loop time) of the connect or response wait, checked by Router.tick
    router: Router

    # Provided by ClientConnection.
    def _finish(self) -> None: ...
    def _close(self) -> None: ...
    def _log_info(self) -> None: ...
    def _log_error(self, code: str, desc: str, status: int) -> None: ...
    def _error(self, err: pages.RouterError, close: bool = False,
               keep_backend: bool = False) -> None: ...
    def send(self, data: bytes) -> None: ...
    def uncork(self) -> None: ...
    if TYPE_CHECKING:  # provided by BackendDispatch
        def retry(self, up: Upstream) -> bool: ...

    # --- upstream events ---------------------------------------------------------
    def response_head(self, up: Upstream, status: int, reason: bytes,
                      headers: list[tuple[bytes, bytes]]) -> None:
        req = self.req
        if req is None or up is not self.upstream or self.transport is None:
            return
        if 100 <= status < 200 and status != 101:
            if status != 100:  # the router already answered Expect itself
                self.send(build_response_head(status, reason, headers,
                                                         chunked=False, close=False))
            return
        self._cancel_timer()
        self.status = status
        if status == 101 and req.upgrade is not None:
            self.tunnel = True
            head = build_response_head(status, reason, headers, chunked=False, close=False,
                                       upgrade=True)
        else:
            if req.upgrade is not None:
                self.close_after = True  # our parser is past the upgrade; no more requests
            no_body = req.method == b"HEAD" or status in (204, 304)
            if not no_body:
                lnames = {name.lower() for name, _ in headers}
                if b"content-length" not in lnames:
                    self.until_close = b"transfer-encoding" not in lnames
                    if req.http10:
                        self.close_after = True
                    else:
                        self.chunked_out = True
            if not req.body_done:
                self.close_after = True
            head = build_response_head(status, reason, headers, chunked=self.chunked_out,
                                       close=self.close_after)
        self.head_sent = True
        self.nbytes += len(head)
        self.send(head)
        if self.tunnel:
            self._log_info()
            pending, self.tunnel_pending = self.tunnel_pending, []
            if up.transport is not None and pending:
                up.transport.write(b"".join(pending))
        elif req.method == b"HEAD":
            # httptools cannot be told a HEAD response has no body; drop the connection.
            self.upstream = None
            up.client = None
            up.close()
            self._finish()

    def response_body(self, body: bytes) -> None:
        if self.transport is None or not self.head_sent:
            return
        data = b"%x\r\n%b\r\n" % (len(body), body) if self.chunked_out else body
        self.nbytes += len(data)
        self.send(data)

    def response_complete(self, up: Upstream) -> None:
        if self.tunnel or up is not self.upstream or not self.head_sent:
            return
        if self.chunked_out:
            self.send(b"0\r\n\r\n")
            self.nbytes += 5
        self.uncork()  # the client gets its response before we close or log anything
        self.upstream = None
        req = self.req
        if up.parser.should_keep_alive() and req is not None and req.body_done \
                and not self.until_close:
            self.router.pool.release(up, self.loop.time())
        else:
            up.client = None
            up.close()
        self._finish()

    def upstream_lost(self, up: Upstream) -> None:
        if up is not self.upstream:
            return
        self.upstream = None
        if self.tunnel:
            self._close()
            return
        if self.head_sent and self.until_close:
            if self.chunked_out:
                self.send(b"0\r\n\r\n")
                self.nbytes += 5
            self._finish()
            return
        req = self.req
        if not self.head_sent:
            if not up.got_data and self.retry(up):
                return
            self._cancel_timer()
            self.close_after = True
            self._error(pages.ERRORS["H13"], keep_backend=True)
            return
        self._log_error("H18", "Server Request Interrupted", self.status)
        self.req = None
        self.uncork()
        if self.transport is not None:
            self.transport.abort()

    def _on_timeout(self) -> None:
        up, self.upstream = self.upstream, None
        if up is not None:
            up.abort()
        if self.req is not None and not self.head_sent:
            self.close_after = True
            self._error(pages.ERRORS["H12"], keep_backend=True)

    def _arm_timer(self, seconds: float) -> None:
        """Time out the current wait after seconds: cheaper than a loop timer per request."""
        self.timer = self.loop.time() + seconds
        self.router.waiting.add(self)  # type: ignore[arg-type]

    def _cancel_timer(self) -> None:
        if self.timer:
            self.timer = 0.0
            self.router.waiting.discard(self)  # type: ignore[arg-type]

    # --- tunnels (Upgrade) -----------------------------------------------------------
    def tunnel_from_upstream(self, data: bytes) -> None:
        if data:
            self.send(data)

    def tunnel_from_client(self, data: bytes) -> None:
        up = self.upstream
        if self.tunnel and up is not None and up.transport is not None:
            up.transport.write(data)
        else:
            self.tunnel_pending.append(data)

