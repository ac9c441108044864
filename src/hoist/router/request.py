"""Reading a client's requests: httptools callbacks turned into Request objects.

The reader knows HTTP framing and the head size limits; what to do with a
request (route it, queue it behind the one in flight, stream its body) is the
connection's, which it hears of through the RequestSink methods."""
from __future__ import annotations

import time
from typing import Protocol

import httptools

MAX_URL = 8 * 1024
MAX_HEADERS = 64 * 1024
MAX_BUFFERED = 1 << 20  # request body held while connecting, before pausing the client
MAX_QUEUE = 8  # pipelined requests waiting, before pausing the client
# Why reading from the client is paused (a bit set: reading resumes when none is left).
PAUSE_UPSTREAM, PAUSE_BUFFER, PAUSE_QUEUE = 1, 2, 4


class TooLarge(Exception):
    """A request line or head over its limit (the parser reports it as a callback error)."""


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


class RequestSink(Protocol):
    """What the reader tells the connection, in the order the bytes arrive."""

    def request_begun(self) -> None: ...
    def request_head(self, req: Request) -> None: ...
    def request_body(self, req: Request, body: bytes) -> None: ...
    def request_end(self, req: Request) -> None: ...


class RequestReader:
    """The httptools parser's callbacks for one client connection."""

    __slots__ = ("sink", "parser", "cur", "size")

    def __init__(self, sink: RequestSink) -> None:
        self.sink = sink
        self.parser = httptools.HttpRequestParser(self)
        self.cur: Request | None = None  # being parsed
        self.size = 0  # bytes of header lines so far

    def detach(self) -> None:
        """Drop the parser and the sink: the parser holds our bound methods and the
        sink holds us, so without this the connection would be freed only by the GC."""
        self.parser = None  # type: ignore[assignment]
        self.sink = None  # type: ignore[assignment]

    def on_message_begin(self) -> None:
        self.cur = Request()
        self.size = 0
        self.sink.request_begun()

    def on_url(self, url: bytes) -> None:
        cur = self.cur
        assert cur is not None
        cur.url += url
        if len(cur.url) > MAX_URL:
            raise TooLarge()

    def on_header(self, name: bytes, value: bytes) -> None:
        cur = self.cur
        assert cur is not None
        self.size += len(name) + len(value) + 4
        if self.size > MAX_HEADERS:
            raise TooLarge()
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
        self.sink.request_head(cur)

    def on_body(self, body: bytes) -> None:
        cur = self.cur
        if cur is None:
            return
        cur.body_seen = True
        self.sink.request_body(cur, body)

    def on_message_complete(self) -> None:
        cur, self.cur = self.cur, None
        if cur is None:
            return
        cur.body_done = True
        self.sink.request_end(cur)
