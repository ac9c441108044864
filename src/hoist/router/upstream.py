"""Connections to backends: a response-parsing protocol and a small idle pool."""
from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Coroutine
from typing import Any, Protocol

import httptools

Key = tuple[str, int]
# Idle keep-alive connections older than this are not reused: backends close theirs
# after a few seconds (gunicorn gthread: 2 s), and a request on a closing one is lost.
MAX_IDLE_AGE = 1.0


class Dialer(Protocol):
    """Who hears whether a new connection to a backend was made (router/dispatch.py)."""

    def upstream_connected(self, up: Upstream) -> None: ...
    def connect_failed(self, up: Upstream, exc: BaseException) -> None: ...


class UpstreamClient(Protocol):
    """Who gets a connected backend's response (router/exchange.py)."""

    def cork(self) -> None: ...
    def uncork(self) -> None: ...
    def response_head(self, up: Upstream, status: int, reason: bytes,
                      headers: list[tuple[bytes, bytes]]) -> None: ...
    def response_body(self, body: bytes) -> None: ...
    def response_complete(self, up: Upstream) -> None: ...
    def upstream_lost(self, up: Upstream) -> None: ...
    def tunnel_from_upstream(self, data: bytes) -> None: ...
    def pause_client(self) -> None: ...
    def resume_client(self) -> None: ...


class Upstream(asyncio.Protocol):
    """One connection to a backend; hands parsed response events to its client."""

    __slots__ = ("key", "pool", "transport", "dialer", "client", "parser", "closed", "idle_since",
                 "reused", "tunnel", "got_data", "connecting", "_headers", "_reason")

    def __init__(self, key: Key, pool: Pool) -> None:
        self.key = key
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.dialer: Dialer | None = None  # until connected
        self.client: UpstreamClient | None = None  # while a request uses this connection
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.reused = False
        self.tunnel = False
        self.got_data = False  # any response byte: a request is only retried before one
        self.connecting: Coroutine[Any, Any, Any] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._reason = b""

    def connect(self, loop: asyncio.AbstractEventLoop, host: str, port: int, dialer: Dialer) -> None:
        """Start connecting; the dialer hears of success from connection_made.

        The create_connection coroutine is stepped by its own futures' callbacks rather
        than wrapped in a Task: a Task per request costs more than the rest of the connect."""
        self.dialer = dialer
        if port == 0 and host.startswith("/"):  # the platform's internal API: a Unix socket only hoist can reach
            self.connecting = loop.create_unix_connection(self._me, host)
        else:
            self.connecting = loop.create_connection(self._me, host, port)
        self._step(None)

    def _me(self) -> Upstream:
        return self

    def _step(self, _fut: object) -> None:
        coro = self.connecting
        if coro is None:
            return
        try:
            waiting = coro.send(None)
        except StopIteration:
            self.connecting = None  # connected: connection_made has run already
            return
        except Exception as exc:  # OSError and friends: the connect failed
            self.connecting = None
            self.closed = True
            self._free()
            dialer, self.dialer = self.dialer, None
            if dialer is not None:
                dialer.connect_failed(self, exc)
            return
        if waiting is None:  # a bare yield (sleep(0)): just run again soon
            asyncio.get_running_loop().call_soon(self._step, None)
        else:
            waiting.add_done_callback(self._step)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        dialer, self.dialer = self.dialer, None
        if dialer is not None:
            dialer.upstream_connected(self)
        else:
            transport.close()

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None:  # an idle pooled connection must stay silent
            self.close()
            return
        self.got_data = True
        if self.tunnel:
            client.tunnel_from_upstream(data)
            return
        # Everything one read produces goes to the client in one write (see ClientConnection.uncork).
        client.cork()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.tunnel = True
            client.uncork()
            client.tunnel_from_upstream(data[exc.args[0]:])
        except httptools.HttpParserError:
            self.close()  # connection_lost reports it to the client as H13/H18
        client.uncork()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.client is not None and self.transport is not None:
            # A write failed (the backend answered early, e.g. 413, and closed without reading the rest of
            # the body): its answer may still wait in the socket, unread. Read it before giving up on it.
            for data in _unread(self.transport):
                if self.client is None or self.closed:
                    break
                self.data_received(data)
        self.closed = True
        self.pool.discard(self)
        client, self.client = self.client, None
        if client is not None:
            client.upstream_lost(self)
        self._free()

    def _free(self) -> None:
        # The parser holds our bound methods: break the cycle so refcounting frees both
        # now (cyclic garbage per request made the GC a tenth of the router's CPU).
        self.parser = None  # type: ignore[assignment]
        self.transport = None
        self._headers = []

    def pause_writing(self) -> None:
        if self.client is not None:
            self.client.pause_client()

    def resume_writing(self) -> None:
        if self.client is not None:
            self.client.resume_client()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._headers = []
        self._reason = b""

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.client is not None:
            self.client.response_head(self, self.parser.get_status_code(), self._reason,
                                      self._headers)

    def on_body(self, body: bytes) -> None:
        if self.client is not None:
            self.client.response_body(body)

    def on_message_complete(self) -> None:
        if self.client is not None:
            self.client.response_complete(self)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        self.client = None
        self.dialer = None
        if self.transport is not None:
            self.transport.abort()
        coro, self.connecting = self.connecting, None
        if coro is not None:
            coro.close()  # create_connection closes its half-made transport


class Pool:
    """Idle keep-alive upstream connections per backend, reused newest first."""

    def __init__(self, max_idle: int = 8, max_age: float = MAX_IDLE_AGE) -> None:
        self.max_idle = max_idle
        self.max_age = max_age
        self.idle: dict[Key, list[Upstream]] = {}

    def acquire(self, key: Key, now: float) -> Upstream | None:
        """The newest idle connection to key that is young enough to trust, or None."""
        conns = self.idle.get(key)
        while conns:
            up = conns.pop()
            if now - up.idle_since > self.max_age:
                up.close()  # the backend may have closed it already (gunicorn gthread: 2 s)
                continue
            if not up.closed and up.transport is not None and not up.transport.is_closing():
                up.reused = True
                up.got_data = False
                return up
        return None

    def release(self, up: Upstream, now: float) -> None:
        """Keep a finished connection for reuse, or close it if the pool is full."""
        up.client = None
        conns = self.idle.setdefault(up.key, [])
        if up.closed or len(conns) >= self.max_idle:
            up.close()
            return
        up.idle_since = now
        conns.append(up)

    def discard(self, up: Upstream) -> None:
        conns = self.idle.get(up.key)
        if conns and up in conns:
            conns.remove(up)

    def sweep(self, now: float) -> None:
        """Close connections idle longer than max_age (backends time them out anyway)."""
        for conns in self.idle.values():
            for up in [u for u in conns if now - u.idle_since > self.max_age]:
                conns.remove(up)
                up.close()

    def close_all(self) -> None:
        for conns in self.idle.values():
            for up in conns:
                up.close()
        self.idle.clear()


def _unread(transport: asyncio.BaseTransport, limit: int = 1 << 20) -> list[bytes]:
    """What is left to read on a transport's socket (non-blocking, at most `limit` bytes): the socket is
    still open while its protocol hears of the loss."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return []
    out: list[bytes] = []
    try:
        with socket.socket(fileno=os.dup(sock.fileno())) as dup:
            dup.setblocking(False)
            while limit > 0:
                data = dup.recv(min(limit, 65536))
                if not data:
                    break
                out.append(data)
                limit -= len(data)
    except OSError:
        pass  # nothing (more) to read, or the socket is gone
    return out
