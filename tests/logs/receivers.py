"""Real log receivers for drain tests: an asyncio syslog listener (TCP or TLS) that parses octet-counted
frames (RFC 6587) on its own, and an HTTPS endpoint that records logplex POSTs. Nothing here is hoist code."""
from __future__ import annotations

import asyncio
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hoist.tls.ca import LocalCA


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_ca(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA of the test's own and a server context for localhost/127.0.0.1 signed by it: (ca.pem, context)."""
    ca = LocalCA(directory / "ca")
    ca.ensure()
    pair = ca.issue(["localhost", "127.0.0.1"], directory / "server")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pair.cert, pair.key)
    return ca.cert_path, ctx


def split_frames(data: bytes) -> tuple[list[bytes], bytes]:
    """Octet-counted frames `LEN SP MSG` out of `data`; the incomplete rest."""
    out = []
    while True:
        space = data.find(b" ")
        if space <= 0 or not data[:space].isdigit():
            return out, data
        n = int(data[:space])
        if len(data) < space + 1 + n:
            return out, data
        out.append(data[space + 1: space + 1 + n])
        data = data[space + 1 + n:]


class SyslogReceiver:
    """Listens on 127.0.0.1:port (TLS with `tls`); `messages` are the frames received, in order."""

    def __init__(self, tls: ssl.SSLContext | None = None, port: int | None = None) -> None:
        self.tls = tls
        self.port = port or free_port()
        self.messages: list[bytes] = []
        self.connections = 0
        self.bytes = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(lambda loop, context: None)  # failed handshakes are expected in tests
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def start(self) -> "SyslogReceiver":
        self._call(self._start())
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=self.tls,
                                                  reuse_address=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        buf = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                self.bytes += len(chunk)
                frames, buf = split_frames(buf + chunk)
                self.messages.extend(frames)
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def stop(self) -> None:
        """The receiver goes down: no listener, every connection closed."""
        self._call(self._stop())

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            await self._server.wait_closed()
            self._server = None

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def texts(self) -> list[str]:
        return [m.decode("utf-8", "replace") for m in self.messages]

    def wait_for(self, check: Callable[[list[str]], bool], timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.texts()
            if check(texts):
                return texts
            time.sleep(0.05)
        raise AssertionError(f"the receiver never got what was expected; it has {len(self.messages)} "
                             f"message(s), the last: {self.texts()[-3:]}")


class HttpsReceiver:
    """An HTTPS server recording each POST as (headers, frames); answers `status`."""

    def __init__(self, ctx: ssl.SSLContext, status: int = 200) -> None:
        self.posts: list[tuple[dict[str, str], list[bytes]]] = []
        self.status = status
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                frames, rest = split_frames(body)
                if outer.status < 300:
                    outer.posts.append(({k.lower(): v for k, v in self.headers.items()}, frames))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
