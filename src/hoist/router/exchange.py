"""The backend half of proxying one request: send its head and body upstream, relay
the response back (framing, keep-alive, tunnels), and time it out (H12), report a
backend that closed (H13) or broke off mid-response (H18)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from hoist.contracts.routes import Backend
from hoist.router import pages
from hoist.router.dispatch import Dispatch
from hoist.router.headers import build_request_head, build_response_head
from hoist.router.request import PAUSE_BUFFER, PAUSE_UPSTREAM, Request
from hoist.router.state import Router
from hoist.router.upstream import Upstream


class ClientSide(Protocol):
    """What the exchange uses of its client connection (router/proxy.py)."""

    req: Request | None  # the request being answered
    closed: bool
    tls: bool
    client_ip: str
    write_paused: bool
    tunnel: bool
    status: int  # of the response sent, for the log line
    head_sent: bool
    close_after: bool  # close the client connection after this response

    def send(self, data: bytes) -> None: ...
    def answer(self, data: bytes) -> None: ...
    def cork(self) -> None: ...
    def uncork(self) -> None: ...
    def finish(self) -> None: ...
    def fail(self, err: pages.RouterError, close: bool = False) -> None: ...
    def close(self) -> None: ...
    def break_off(self) -> None: ...
    def open_tunnel(self) -> list[bytes]: ...
    def pause_reading_for(self, reason: int) -> None: ...
    def resume_reading_for(self, reason: int) -> None: ...


class Exchange:
    """One client connection's current request at a backend; reset between requests.

    The connection starts it with the backends to try; Dispatch finds a connected
    upstream; from then on the upstream's response events come here."""

    __slots__ = ("conn", "router", "dispatch", "upstream", "backend", "fwd", "connect_s",
                 "t_sent", "req_timeout", "chunked_out", "until_close", "timer", "cork", "uncork")

    def __init__(self, conn: ClientSide, router: Router) -> None:
        self.conn = conn
        self.router = router
        self.dispatch = Dispatch(router, self._attach, self._unreachable)
        self.upstream: Upstream | None = None
        self.timer = 0.0  # deadline (loop time) of the response wait, checked by the router's sweep
        # What one upstream read produces reaches the client in one write: the upstream
        # corks and uncorks the client connection itself (no call through here per read).
        self.cork = conn.cork
        self.uncork = conn.uncork
        self.reset()

    def reset(self) -> None:
        """Forget the finished request (its log line is written)."""
        if self.timer:
            self._cancel_timer()
        dispatch = self.dispatch
        if dispatch.timer or dispatch.connecting is not None:
            dispatch.cancel()
        self.backend: Backend | None = None
        self.fwd = ""  # X-Forwarded-For as sent, for the log line
        self.connect_s: float | None = None
        self.t_sent = 0.0
        self.req_timeout: float | None = None
        self.chunked_out = False
        self.until_close = False

    def start(self, backends: Sequence[Backend], start: int, timeout: float | None) -> None:
        """Proxy the connection's current request to backends[start] (or the next ones)."""
        self.req_timeout = timeout
        self.dispatch.connect(backends, start)

    def abort(self) -> None:
        """Drop the backend side of the request: the client timed out or went away."""
        up, self.upstream = self.upstream, None
        if up is not None:
            up.abort()
        self.dispatch.cancel()
        self._cancel_timer()

    def detach(self) -> None:
        """Break the references back to the connection once its client is gone."""
        self.abort()
        self.dispatch.detach()
        self.conn = None  # type: ignore[assignment]
        self.cork = self.uncork = _gone

    # --- the request, upstream ------------------------------------------------------
    def _attach(self, up: Upstream, b: Backend, connect_s: float) -> None:
        conn = self.conn
        req = conn.req
        if req is None or conn.closed or up.transport is None:  # answered or gone meanwhile
            up.abort()
            return
        self.upstream = up
        self.backend = b
        self.connect_s = connect_s
        up.client = self
        if conn.write_paused:
            up.transport.pause_reading()
        up.got_data = False
        router = self.router
        tls = conn.tls
        head = build_request_head(
            req.method, req.url, req.headers, client_ip=conn.client_ip, proto=b"https" if tls else b"http",
            port=router.tls_port_bytes if tls else router.port_bytes, request_id=req.request_id or b"",
            start_ms=int(req.t0 * 1000), chunked=req.chunked, upgrade=req.upgrade)
        fwd_start = head.find(b"X-Forwarded-For: ") + 17
        self.fwd = head[fwd_start:head.find(b"\r\n", fwd_start)].decode("latin-1")
        body = req.body
        if req.chunked:
            parts = [b"%x\r\n%b\r\n" % (len(c), c) for c in body]
            if req.body_done:
                parts.append(b"0\r\n\r\n")
            up.transport.write(head + b"".join(parts))
        else:
            up.transport.write(head + b"".join(body) if body else head)
        req.body = []
        req.buffered = 0
        conn.resume_reading_for(PAUSE_BUFFER)
        if req.expect and not req.body_done:
            conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.t_sent = time.monotonic()
        if self.req_timeout is not None:
            self._arm_timer(self.req_timeout)

    def _unreachable(self, err: pages.RouterError) -> None:
        self.backend = None  # no dyno answered: the log line names none
        if self.conn.req is not None:
            self.conn.fail(err)

    def send_body(self, body: bytes, chunked: bool) -> None:
        """Stream a piece of the request body to the connected backend."""
        up = self.upstream
        if up is not None and up.transport is not None:
            up.transport.write(b"%x\r\n%b\r\n" % (len(body), body) if chunked else body)

    def end_body(self, req: Request) -> None:
        """The request body is complete: end its chunked framing upstream."""
        up = self.upstream
        if up is not None and req.chunked and up.transport is not None:
            up.transport.write(b"0\r\n\r\n")

    # --- the response, back to the client ----------------------------------------------
    def response_head(self, up: Upstream, status: int, reason: bytes,
                      headers: list[tuple[bytes, bytes]]) -> None:
        conn = self.conn
        req = conn.req
        if req is None or up is not self.upstream or conn.closed:
            return
        if 100 <= status < 200 and status != 101:
            if status != 100:  # the router already answered Expect itself
                conn.send(build_response_head(status, reason, headers, chunked=False, close=False))
            return
        self._cancel_timer()
        conn.status = status
        tunnel = status == 101 and req.upgrade is not None
        if tunnel:
            head = build_response_head(status, reason, headers, chunked=False, close=False,
                                       upgrade=True)
        else:
            if req.upgrade is not None:
                conn.close_after = True  # our parser is past the upgrade; no more requests
            no_body = req.method == b"HEAD" or status in (204, 304)
            if not no_body:
                lnames = {name.lower() for name, _ in headers}
                if b"content-length" not in lnames:
                    self.until_close = b"transfer-encoding" not in lnames
                    if req.http10:
                        conn.close_after = True
                    else:
                        self.chunked_out = True
            if not req.body_done:
                conn.close_after = True
            head = build_response_head(status, reason, headers, chunked=self.chunked_out,
                                       close=conn.close_after)
        conn.head_sent = True
        conn.answer(head)
        if tunnel:
            pending = conn.open_tunnel()
            if up.transport is not None and pending:
                up.transport.write(b"".join(pending))
        elif req.method == b"HEAD":
            # httptools cannot be told a HEAD response has no body; drop the connection.
            self.upstream = None
            up.client = None
            up.close()
            conn.finish()

    def response_body(self, body: bytes) -> None:
        conn = self.conn
        if conn.closed or not conn.head_sent:
            return
        conn.answer(b"%x\r\n%b\r\n" % (len(body), body) if self.chunked_out else body)

    def response_complete(self, up: Upstream) -> None:
        conn = self.conn
        if conn.tunnel or up is not self.upstream or not conn.head_sent:
            return
        if self.chunked_out:
            conn.answer(b"0\r\n\r\n")
        conn.uncork()  # the client gets its response before we close or log anything
        self.upstream = None
        req = conn.req
        if up.parser.should_keep_alive() and req is not None and req.body_done \
                and not self.until_close:
            self.router.pool.release(up, self.router.loop.time())
        else:
            up.client = None
            up.close()
        conn.finish()

    def upstream_lost(self, up: Upstream) -> None:
        if up is not self.upstream:
            return
        self.upstream = None
        conn = self.conn
        if conn.tunnel:
            conn.close()
            return
        if conn.head_sent and self.until_close:
            if self.chunked_out:
                conn.answer(b"0\r\n\r\n")
            conn.finish()
            return
        if not conn.head_sent:
            self._cancel_timer()
            req = conn.req
            if not up.got_data and req is not None and self.dispatch.retry(up, req):
                return
            conn.close_after = True
            conn.fail(pages.ERRORS["H13"])
            return
        conn.break_off()

    def on_timer(self) -> None:
        """The response wait armed by _attach ran out (H12)."""
        self._cancel_timer()
        up, self.upstream = self.upstream, None
        if up is not None:
            up.abort()
        conn = self.conn
        if conn.req is not None and not conn.head_sent:
            conn.close_after = True
            conn.fail(pages.ERRORS["H12"])

    def _arm_timer(self, seconds: float) -> None:
        """Time out the response wait after seconds: cheaper than a loop timer per request."""
        self.timer = self.router.loop.time() + seconds
        self.router.waiting.add(self)

    def _cancel_timer(self) -> None:
        if self.timer:
            self.timer = 0.0
            self.router.waiting.discard(self)

    # --- backpressure and tunnels --------------------------------------------------------
    def pause_client(self) -> None:
        """The backend cannot take more of the request body: stop reading the client."""
        self.conn.pause_reading_for(PAUSE_UPSTREAM)

    def resume_client(self) -> None:
        self.conn.resume_reading_for(PAUSE_UPSTREAM)

    def pause_upstream(self) -> None:
        """The client cannot take more of the response: stop reading the backend."""
        up = self.upstream
        if up is not None and up.transport is not None:
            up.transport.pause_reading()

    def resume_upstream(self) -> None:
        up = self.upstream
        if up is not None and up.transport is not None:
            up.transport.resume_reading()

    def tunnel_from_upstream(self, data: bytes) -> None:
        if data:
            self.conn.send(data)

    def tunnel_to_upstream(self, data: bytes) -> bool:
        """Pass client bytes through an open tunnel; False if it is not open yet."""
        up = self.upstream
        if self.conn.tunnel and up is not None and up.transport is not None:
            up.transport.write(data)
            return True
        return False


def _gone() -> None:
    """Stands in for the corking of a connection whose client has gone."""
