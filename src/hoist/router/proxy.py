"""One client connection: parse requests, route them, stream to and from a backend."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING

import httptools

from hoist.router import pages
from hoist.router.headers import build_request_head, choose_request_id
from hoist.router.table import AppRoute, Backend, PlatformRoute
from hoist.router.dispatch import BackendDispatch
from hoist.router.relay import Request, ResponseRelay
from hoist.router.upstream import Upstream
from hoist.router.challenges import CHALLENGE_PREFIX, acme_response

if TYPE_CHECKING:
    from hoist.router.server import Router

MAX_URL = 8 * 1024
MAX_HEADERS = 64 * 1024
MAX_BUFFERED = 1 << 20  # request body held while connecting, before pausing the client
MAX_QUEUE = 8  # pipelined requests waiting, before pausing the client
PAUSE_UPSTREAM, PAUSE_BUFFER, PAUSE_QUEUE = 1, 2, 4


class _TooLarge(Exception):
    pass


class ClientConnection(BackendDispatch, ResponseRelay, asyncio.Protocol):
    """Parses requests with httptools and proxies them one at a time, in order."""

    def __init__(self, router: Router, tls: bool = False) -> None:
        self.router = router
        self.tls = tls
        self.loop = router.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client_ip = "-"
        self.closed = False
        self.deadline = 0.0  # header/keep-alive deadline checked by the router's sweep
        self.started_head = False  # bytes of a request head have arrived
        self.cur: Request | None = None  # being parsed
        self.queue: deque[Request] = deque()
        self.req: Request | None = None  # being proxied
        self.upstream: Upstream | None = None
        self.connecting: Upstream | None = None
        self.out: list[bytes] | None = None  # corked client writes (see uncork)
        self.tunnel = False
        self.tunnel_pending: list[bytes] = []
        self.read_paused = 0
        self.write_paused = False
        self._size = 0
        self._reset_response()

    def _reset_response(self) -> None:
        self.app: AppRoute | None = None
        self.backend: Backend | None = None
        self.fwd = ""
        self.status = 0
        self.head_sent = False
        self.chunked_out = False
        self.until_close = False
        self.close_after = False
        self.nbytes = 0
        self.connect_s: float | None = None
        self.t_sent = 0.0
        self.t_connect = 0.0
        self.timer = 0.0
        self.backends: tuple[Backend, ...] | list[Backend] = ()
        self.bidx = 0
        self.attempts = 0
        self.retried = False
        self.req_timeout: float | None = None
        self.fail_code = "H10"

    # --- client transport events -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.client_ip = peer[0] if peer else "-"
        self.deadline = self.loop.time() + self.router.header_timeout
        self.router.connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self.tunnel or self.tunnel_pending:
            self.tunnel_from_client(data)
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.tunnel_pending.append(data[exc.args[0]:])
        except httptools.HttpParserCallbackError as exc:
            too_large = isinstance(exc.__context__, _TooLarge)
            self._reject(pages.TOO_LARGE if too_large else pages.BAD_REQUEST)
        except httptools.HttpParserError:
            self._reject(pages.BAD_REQUEST)

    def eof_received(self) -> bool | None:
        return None  # a half-closed client is treated as gone (H27 if mid-request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.router.connections.discard(self)
        up, self.upstream = self.upstream, None
        if self.req is not None and not self.tunnel:
            self._log_error("H27", "Client Request Interrupted", 499)
        if up is not None:
            up.abort()
        conn, self.connecting = self.connecting, None
        if conn is not None:
            conn.abort()
        self._cancel_timer()
        self.req = None
        self.queue.clear()
        # Break the parser and transport cycles: the connection is freed by refcounting.
        self.parser = None  # type: ignore[assignment]
        self.transport = None

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.resume_reading()

    def pause_reading_for(self, reason: int) -> None:
        if not self.read_paused and self.transport is not None:
            self.transport.pause_reading()
        self.read_paused |= reason

    def resume_reading_for(self, reason: int) -> None:
        if self.read_paused & reason:
            self.read_paused &= ~reason
            if not self.read_paused and self.transport is not None and not self.closed:
                self.transport.resume_reading()

    # --- httptools request callbacks ---------------------------------------------
    def on_message_begin(self) -> None:
        self.cur = Request()
        self._size = 0
        if self.req is None:
            self.deadline = self.loop.time() + self.router.header_timeout

    def on_url(self, url: bytes) -> None:
        cur = self.cur
        assert cur is not None
        cur.url += url
        if len(cur.url) > MAX_URL:
            raise _TooLarge()

    def on_header(self, name: bytes, value: bytes) -> None:
        cur = self.cur
        assert cur is not None
        self._size += len(name) + len(value) + 4
        if self._size > MAX_HEADERS:
            raise _TooLarge()
        cur.headers.append((name, value))
        lname = name.lower()
        if lname == b"host":
            cur.host = value
        elif lname == b"x-request-id":
            cur.request_id = value
        elif lname == b"transfer-encoding":
            cur.chunked = b"chunked" in value.lower()
            cur.body_done = not cur.chunked
        elif lname == b"expect":
            cur.expect = value.lower() == b"100-continue"
        elif lname == b"upgrade":
            cur.upgrade = value
        elif lname == b"content-length":
            cur.body_done = value.strip() in (b"0", b"")

    def on_headers_complete(self) -> None:
        cur = self.cur
        assert cur is not None
        parser = self.parser
        cur.method = parser.get_method()
        cur.keep_alive = parser.should_keep_alive()
        cur.http10 = parser.get_http_version() == "1.0"
        if not parser.should_upgrade():
            cur.upgrade = None
        cur.t0 = time.time()
        if self.req is None:
            self.deadline = 0.0 if cur.body_done else self.loop.time() + self.router.body_timeout
            self._start(cur)
        else:
            self.queue.append(cur)
            if len(self.queue) >= MAX_QUEUE:
                self.pause_reading_for(PAUSE_QUEUE)

    def on_body(self, body: bytes) -> None:
        cur = self.cur
        if cur is None:
            return
        cur.body_seen = True
        up = self.upstream
        if cur is self.req:
            self.deadline = self.loop.time() + self.router.body_timeout
        if cur is self.req and up is not None:
            if up.transport is not None:
                up.transport.write(b"%x\r\n%b\r\n" % (len(body), body) if cur.chunked else body)
        elif cur is self.req or cur in self.queue:
            cur.body.append(body)
            cur.buffered += len(body)
            if cur.buffered > MAX_BUFFERED:
                self.pause_reading_for(PAUSE_BUFFER)

    def on_message_complete(self) -> None:
        cur, self.cur = self.cur, None
        if cur is None:
            return
        cur.body_done = True
        if cur is self.req:
            self.deadline = 0.0
        up = self.upstream
        if cur is self.req and up is not None and cur.chunked and up.transport is not None:
            up.transport.write(b"0\r\n\r\n")

    # --- routing -----------------------------------------------------------------
    def _start(self, req: Request) -> None:
        self.req = req
        self.close_after = not req.keep_alive or self.router.draining
        if req.host is None:
            return self._error(pages.BAD_REQUEST, close=True)
        if req.method == b"CONNECT":
            return self._error(pages.BAD_REQUEST, close=True)
        if req.url.startswith(CHALLENGE_PREFIX) and self._acme_challenge(req):
            return None
        table = self.router.table
        route = table.lookup(req.host)
        req.request_id = choose_request_id(req.request_id)
        if route is None:
            return self._error(pages.NOT_FOUND)
        if isinstance(route, PlatformRoute):
            if route.upstream is None:
                return self._error(pages.ERRORS["H14"])
            return self._connect([route.upstream], 0, None)
        self.app = route
        if route.maintenance:
            return self._error(pages.ERRORS["H80"])
        backends = route.backends
        if not backends:
            if route.state == "idle":
                self.loop.create_task(self._wake_then_connect(req, route.name))
                return None
            return self._error(pages.ERRORS["H10" if route.state == "crashed" else "H14"])
        start = self.router.next_index(route.name, len(backends))
        return self._connect(backends, start, table.request_timeout)

    async def _wake_then_connect(self, req: Request, app: str) -> None:
        """Hold a request to a sleeping app until the platform has woken it (router/wake.py)."""
        route = await self.router.waker.wake(app)
        if self.closed or self.req is not req:
            return
        if route is None or not route.backends:
            return self._error(pages.ERRORS["H20"])
        self.app = route
        start = self.router.next_index(route.name, len(route.backends))
        self._connect(route.backends, start, self.router.table.request_timeout)

    def _attach(self, up: Upstream) -> None:
        req = self.req
        b = self.backends[self.bidx]
        timeout = self.req_timeout
        assert req is not None and up.transport is not None
        self._cancel_timer()
        self.upstream = up
        self.backend = b
        up.client = self
        if self.write_paused:
            up.transport.pause_reading()
        up.got_data = False
        router = self.router
        head = build_request_head(
            req.method, req.url, req.headers, client_ip=self.client_ip, proto=b"https" if self.tls else b"http",
            port=router.tls_port_bytes if self.tls else router.port_bytes, request_id=req.request_id or b"",
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
        self.resume_reading_for(PAUSE_BUFFER)
        if req.expect and not req.body_done:
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.t_sent = time.monotonic()
        if timeout is not None:
            self._arm_timer(timeout)

    def _acme_challenge(self, req: Request) -> bool:
        """Answer an ACME HTTP-01 challenge from the challenge dir; False if there is none."""
        body = acme_response(self.router.acme_dir, req.url[len(CHALLENGE_PREFIX):])
        if body is None:
            return False
        close = self.close_after or not req.body_done
        self.close_after = close
        if self.transport is not None:
            self.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%b\r\n%b"
                                 % (len(body), b"Connection: close\r\n" if close else b"",
                                    b"" if req.method == b"HEAD" else body))
        self._finish()
        return True

    # --- finishing -----------------------------------------------------------------
    def _error(self, err: pages.RouterError, close: bool = False,
               keep_backend: bool = False) -> None:
        req = self.req
        if not keep_backend:
            self.backend = None
        if req is not None and not req.body_done:
            close = True  # the unread body would be parsed as the next request
        close = close or self.close_after
        self.close_after = close
        page = pages.render_response(err, close, req is not None and req.method == b"HEAD")
        self.nbytes += len(page)
        self.status = err.status
        self.send(page)
        if err.code is not None:
            self._log_error(err.code, err.desc, err.status)
            self.app = None  # logged already
        self._finish()

    def _reject(self, err: pages.RouterError) -> None:
        """Answer a request the parser refused, then close."""
        if self.transport is None or self.closed:
            return
        if self.req is None or not self.head_sent:
            self.send(pages.render_response(err, True))
        self._close()

    def _finish(self) -> None:
        self._cancel_timer()
        if self.app is not None:
            self._log_info()
        self.req = None
        close = self.close_after
        self._reset_response()
        if close or self.closed:
            self._close()
            return
        if self.queue:
            nxt = self.queue.popleft()
            self.resume_reading_for(PAUSE_QUEUE)
            self._start(nxt)
        else:
            self.deadline = self.loop.time() + self.router.keepalive_timeout

    def send(self, data: bytes) -> None:
        """Write to the client, or add to the corked writes while an upstream read is handled."""
        out = self.out
        if out is not None:
            out.append(data)
        elif self.transport is not None:
            self.transport.write(data)

    def uncork(self) -> None:
        """Write what one upstream read produced (head and small body) in one syscall."""
        out, self.out = self.out, None
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _close(self) -> None:
        self.uncork()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.req = None

    def on_deadline(self) -> None:
        """Header trickle, idle keep-alive or a stalled request body (H28) timed out."""
        req = self.req
        if req is not None:
            if req.body_done or self.tunnel:
                return
            if self.read_paused:  # we stopped reading (backpressure): the client is not idle
                self.deadline = self.loop.time() + self.router.body_timeout
                return
            up, self.upstream = self.upstream, None
            if up is not None:
                up.abort()
            self._cancel_timer()
            self._log_error("H28", "Client Connection Idle", 499)
            if self.transport is not None:
                self.transport.abort()
            return
        if self.cur is not None:
            self.send(pages.render_response(pages.TIMEOUT, True))
        self._close()

    def close_if_idle(self) -> None:
        """Close the connection if no request is in flight (used when draining)."""
        if self.req is None and self.cur is None:
            self._close()

    def _log_info(self) -> None:
        self._log(None, None, self.status)

    def _log_error(self, code: str, desc: str, status: int) -> None:
        self._log(code, desc, status)

    def _log(self, code: str | None, desc: str | None, status: int) -> None:
        app, req = self.app, self.req
        if app is None or req is None:
            return
        self.app = None  # exactly one line per request
        b = self.backend
        service = time.monotonic() - self.t_sent if self.t_sent else None
        # Formatted when the writer flushes, after this iteration's responses went out.
        self.router.logs.write_entry((
            app.name, req.method, req.url, req.host or b"", req.request_id or b"",
            self.fwd or self.client_ip, b.dyno if b else "", self.connect_s if b else None,
            service if b else None, status, self.nbytes, "https" if self.tls else "http",
            code, desc))
