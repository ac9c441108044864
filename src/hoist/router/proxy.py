"""One client connection: read its requests, route each, answer them one at a time, in order.

The connection owns the client's side (transport, flow control, the queue of
pipelined requests, deadlines, error pages, the log line) and delegates: a
RequestReader turns bytes into Requests (router/request.py), and an Exchange
takes the request in flight to a backend and relays the response
(router/exchange.py, which uses Dispatch to connect, router/dispatch.py)."""
from __future__ import annotations

import asyncio
import time
from collections import deque

import httptools

from hoist.contracts.routes import AppRoute, PlatformRoute
from hoist.router import pages
from hoist.router.challenges import CHALLENGE_PREFIX, acme_response
from hoist.router.exchange import Exchange
from hoist.router.headers import choose_request_id
from hoist.router.request import (MAX_BUFFERED, MAX_QUEUE, PAUSE_BUFFER, PAUSE_QUEUE, Request,
                                  RequestReader, TooLarge)
from hoist.router.state import Router


class ClientConnection(asyncio.Protocol):
    """Parses requests with httptools and proxies them one at a time, in order."""

    def __init__(self, router: Router, tls: bool = False) -> None:
        self.router = router
        self.tls = tls
        self.loop = router.loop
        self.reader = RequestReader(self)
        self.exchange = Exchange(self, router)
        self.transport: asyncio.Transport | None = None
        self.client_ip = "-"
        self.closed = False
        self.deadline = 0.0  # header/keep-alive deadline checked by the router's sweep
        self.queue: deque[Request] = deque()
        self.req: Request | None = None  # being answered
        self.out: list[bytes] | None = None  # corked client writes (see uncork)
        self.tunnel = False
        self.tunnel_pending: list[bytes] = []
        self.read_paused = 0
        self.write_paused = False
        # The answer to the request in flight (reset by finish).
        self.app: AppRoute | None = None  # set while its log line is still to be written
        self.status = 0
        self.nbytes = 0
        self.head_sent = False
        self.close_after = False

    # --- client transport events -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.client_ip = peer[0] if peer else "-"
        self.deadline = self.loop.time() + self.router.header_timeout
        self.router.connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self.tunnel or self.tunnel_pending:
            if not self.exchange.tunnel_to_upstream(data):
                self.tunnel_pending.append(data)
            return
        try:
            self.reader.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.tunnel_pending.append(data[exc.args[0]:])
        except httptools.HttpParserCallbackError as exc:
            too_large = isinstance(exc.__context__, TooLarge)
            self._reject(pages.TOO_LARGE if too_large else pages.BAD_REQUEST)
        except httptools.HttpParserError:
            self._reject(pages.BAD_REQUEST)

    def eof_received(self) -> bool | None:
        return None  # a half-closed client is treated as gone (H27 if mid-request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.router.connections.discard(self)
        if self.req is not None and not self.tunnel:
            self.log_error("H27", "Client Request Interrupted", 499)
        self.req = None
        self.queue.clear()
        # Break the reference cycles (parser, collaborators): the connection is freed by refcounting.
        self.exchange.detach()
        self.reader.detach()
        self.transport = None

    def pause_writing(self) -> None:
        self.write_paused = True
        self.exchange.pause_upstream()

    def resume_writing(self) -> None:
        self.write_paused = False
        self.exchange.resume_upstream()

    def pause_reading_for(self, reason: int) -> None:
        if not self.read_paused and self.transport is not None:
            self.transport.pause_reading()
        self.read_paused |= reason

    def resume_reading_for(self, reason: int) -> None:
        if self.read_paused & reason:
            self.read_paused &= ~reason
            if not self.read_paused and self.transport is not None and not self.closed:
                self.transport.resume_reading()

    # --- requests, as the reader parses them ---------------------------------------
    def request_begun(self) -> None:
        if self.req is None:
            self.deadline = self.loop.time() + self.router.header_timeout

    def request_head(self, req: Request) -> None:
        if self.req is None:
            self.deadline = 0.0 if req.body_done else self.loop.time() + self.router.body_timeout
            self._start(req)
        else:
            self.queue.append(req)
            if len(self.queue) >= MAX_QUEUE:
                self.pause_reading_for(PAUSE_QUEUE)

    def request_body(self, req: Request, body: bytes) -> None:
        if req is self.req:
            self.deadline = self.loop.time() + self.router.body_timeout
            if self.exchange.upstream is not None:
                self.exchange.send_body(body, req.chunked)
                return
        elif req not in self.queue:
            return
        req.body.append(body)  # sent with the head once connected
        req.buffered += len(body)
        if req.buffered > MAX_BUFFERED:
            self.pause_reading_for(PAUSE_BUFFER)

    def request_end(self, req: Request) -> None:
        if req is self.req:
            self.deadline = 0.0
            self.exchange.end_body(req)

    # --- routing -----------------------------------------------------------------
    def _start(self, req: Request) -> None:
        self.req = req
        self.close_after = not req.keep_alive or self.router.draining
        if req.host is None:
            return self.fail(pages.BAD_REQUEST, close=True)
        if req.method == b"CONNECT":
            return self.fail(pages.BAD_REQUEST, close=True)
        if req.url.startswith(CHALLENGE_PREFIX) and self._acme_challenge(req):
            return None
        table = self.router.table
        route = table.lookup(req.host)
        req.request_id = choose_request_id(req.request_id)
        if route is None:
            return self.fail(pages.NOT_FOUND)
        if isinstance(route, PlatformRoute):
            if route.upstream is None:
                return self.fail(pages.ERRORS["H14"])
            return self.exchange.start((route.upstream,), 0, None)
        self.app = route
        if route.maintenance:
            return self.fail(pages.ERRORS["H80"])
        backends = route.backends
        if not backends:
            if route.state == "idle":
                self.loop.create_task(self._wake_then_connect(req, route.name))
                return None
            return self.fail(pages.ERRORS["H10" if route.state == "crashed" else "H14"])
        start = self.router.next_index(route.name, len(backends))
        return self.exchange.start(backends, start, table.request_timeout)

    async def _wake_then_connect(self, req: Request, app: str) -> None:
        """Hold a request to a sleeping app until the platform has woken it (router/wake.py)."""
        route = await self.router.waker.wake(app)
        if self.closed or self.req is not req:
            return
        if route is None or not route.backends:
            return self.fail(pages.ERRORS["H20"])
        self.app = route
        start = self.router.next_index(route.name, len(route.backends))
        self.exchange.start(route.backends, start, self.router.table.request_timeout)

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
        self.finish()
        return True

    # --- answering -------------------------------------------------------------------
    def fail(self, err: pages.RouterError, close: bool = False) -> None:
        """Answer the request in flight with an error page (and log it, if it has a code)."""
        req = self.req
        if req is not None and not req.body_done:
            close = True  # the unread body would be parsed as the next request
        close = close or self.close_after
        self.close_after = close
        self.status = err.status
        self.answer(pages.render_response(err, close, req is not None and req.method == b"HEAD"))
        if err.code is not None:
            self.log_error(err.code, err.desc, err.status)
        self.finish()

    def _reject(self, err: pages.RouterError) -> None:
        """Answer a request the parser refused, then close."""
        if self.transport is None or self.closed:
            return
        if self.req is None or not self.head_sent:
            self.send(pages.render_response(err, True))
        self.close()

    def finish(self) -> None:
        """The request in flight is answered: log it, then start the next one or wait."""
        if self.app is not None:
            self._log(None, None, self.status)
        self.req = None
        close = self.close_after
        self.exchange.reset()
        self.app = None
        self.status = self.nbytes = 0
        self.head_sent = self.close_after = False
        if close or self.closed:
            self.close()
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

    def answer(self, data: bytes) -> None:
        """Send part of the response to the request in flight (counted for the log line)."""
        self.nbytes += len(data)
        self.send(data)

    def cork(self) -> None:
        """Collect writes until uncork: an upstream read is being handled."""
        self.out = []

    def uncork(self) -> None:
        """Write what one upstream read produced (head and small body) in one syscall."""
        out, self.out = self.out, None
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def open_tunnel(self) -> list[bytes]:
        """The backend accepted an Upgrade: from now on bytes pass through unparsed.
        Logs the request and returns the client bytes that arrived after its head."""
        self.tunnel = True
        self._log(None, None, self.status)
        pending, self.tunnel_pending = self.tunnel_pending, []
        return pending

    def close(self) -> None:
        if self.req is not None:  # closed before its answer: stop connecting or waiting for it
            self.exchange.abort()
            self.req = None
        self.uncork()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort(self) -> None:
        """Drop the client at once (a request in flight is logged H27 by connection_lost)."""
        if self.transport is not None:
            self.transport.abort()

    def break_off(self) -> None:
        """The backend broke off mid-response (H18): drop the client, so that it cannot
        take what it got for the whole response."""
        self.log_error("H18", "Server Request Interrupted", self.status)
        self.req = None
        self.uncork()
        self.abort()

    def on_deadline(self) -> None:
        """Header trickle, idle keep-alive or a stalled request body (H28) timed out."""
        req = self.req
        if req is not None:
            if req.body_done or self.tunnel:
                return
            if self.read_paused:  # we stopped reading (backpressure): the client is not idle
                self.deadline = self.loop.time() + self.router.body_timeout
                return
            self.exchange.abort()
            self.log_error("H28", "Client Connection Idle", 499)
            if self.transport is not None:
                self.transport.abort()
            return
        if self.reader.cur is not None:
            self.send(pages.render_response(pages.TIMEOUT, True))
        self.close()

    def close_if_idle(self) -> None:
        """Close the connection if no request is in flight (used when draining)."""
        if self.req is None and self.reader.cur is None:
            self.close()

    def log_error(self, code: str, desc: str, status: int) -> None:
        self._log(code, desc, status)

    def _log(self, code: str | None, desc: str | None, status: int) -> None:
        app, req = self.app, self.req
        if app is None or req is None:
            return
        self.app = None  # exactly one line per request
        ex = self.exchange
        b = ex.backend
        service = time.monotonic() - ex.t_sent if ex.t_sent else None
        # Formatted when the writer flushes, after this iteration's responses went out.
        self.router.logs.write_entry((
            app.name, req.method, req.url, req.host or b"", req.request_id or b"",
            ex.fwd or self.client_ip, b.dyno if b else "", ex.connect_s if b else None,
            service if b else None, status, self.nbytes, "https" if self.tls else "http",
            code, desc))
