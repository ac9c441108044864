"""Routing table reloads, Upgrade tunnels, the platform upstream, and graceful stop."""
from __future__ import annotations

import asyncio
import http.client
import signal
import socket
import threading
import time
from typing import Any, Callable

from tests.router.conftest import RouterProc, app_routes, named_server, read_head


def body_of(r: RouterProc, host: str = "notes.localhost", path: str = "/") -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)
    c.request("GET", path, headers={"Host": host})
    resp = c.getresponse()
    out = resp.status, resp.read()
    c.close()
    return out


def test_sighup_switches_backends_and_survives_bad_file(
        start_router: Callable[..., RouterProc], raw_server: Callable[..., Any]) -> None:
    a, b = raw_server(named_server("A")), raw_server(named_server("B"))
    r = start_router(app_routes("notes", [a.addr]))
    assert body_of(r) == (200, b"A")
    r.write_routes(app_routes("notes", [b.addr]))
    assert body_of(r) == (200, b"B")
    r.routes.write_text("{not json")
    n = len(r.errors)
    r.proc.send_signal(signal.SIGHUP)
    r.wait(lambda: len(r.errors) > n, r.errors)
    assert "keeping the last good" in r.errors[-1]
    assert body_of(r) == (200, b"B")


def test_missing_routes_file_is_empty_table(start_router: Callable[..., RouterProc],
                                            raw_server: Callable[..., Any]) -> None:
    r = start_router(None)
    assert body_of(r)[0] == 404
    a = raw_server(named_server("A"))
    r.write_routes(app_routes("notes", [a.addr]))
    assert body_of(r) == (200, b"A")


def _ws_echo(sock: socket.socket) -> None:
    head, rest = read_head(sock)
    assert b"Upgrade: websocket" in head and b"Connection: upgrade" in head
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\n\r\nhello-from-upstream")
    if rest:
        sock.sendall(b"echo:" + rest)
    while data := sock.recv(65536):
        sock.sendall(b"echo:" + data)


def test_upgrade_is_a_raw_pipe(start_router: Callable[..., RouterProc],
                               raw_server: Callable[..., Any]) -> None:
    up = raw_server(_ws_echo)
    r = start_router(app_routes("notes", [up.addr]))
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: notes.localhost\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n")
        head, rest = read_head(s)
        assert head.startswith(b"HTTP/1.1 101") and b"Upgrade: websocket" in head
        while len(rest) < len(b"hello-from-upstream"):
            rest += s.recv(100)
        assert rest == b"hello-from-upstream"
        for msg in (b"\x81\x05hello", b"\x00binary\xff" * 1000):
            s.sendall(msg)
            want = b"echo:" + msg
            got = b""
            while len(got) < len(want):
                got += s.recv(65536)
            assert got[:5] == b"echo:" and b"".join(got.split(b"echo:")) == msg
    r.wait(lambda: any("path=\"/ws\"" in ln and "status=101" in ln for ln in r.lines))


class _Platform:
    """A tiny asyncio HTTP upstream: echoes a chunked upload, then streams slow lines."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.port = 0
        self.upload: bytes = b""
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head.lower()
        body = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        self.upload = body
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(3):
            line = f"build step {i}\n".encode()
            writer.write(b"%x\r\n%b\r\n" % (len(line), line))
            await writer.drain()
            await asyncio.sleep(0.6)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_platform_streams_both_ways_without_timeout(
        start_router: Callable[..., RouterProc]) -> None:
    plat = _Platform()
    routes = app_routes("notes", [], request_timeout=0.5,
                        platform={"hosts": ["localhost"], "upstream": f"127.0.0.1:{plat.port}"})
    r = start_router(routes)
    c = http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)
    chunks = [b"PACK" * 1000, b"more" * 5000]
    c.request("POST", "/git/notes.git/git-receive-pack", body=iter(chunks),
              encode_chunked=True, headers={"Host": "LOCALHOST:5000"})
    resp = c.getresponse()
    stamps = []
    while line := resp.readline():
        stamps.append((time.monotonic(), line))
    assert [ln for _, ln in stamps] == [b"build step 0\n", b"build step 1\n", b"build step 2\n"]
    assert stamps[2][0] - stamps[0][0] > 1.0  # lines arrived as sent, past request_timeout
    assert plat.upload == b"".join(chunks)
    time.sleep(0.2)
    assert r.lines == []  # no router log lines for platform requests
    c.close()
    plat.close()


def test_sigterm_finishes_in_flight_then_exits_zero(start_router: Callable[..., RouterProc],
                                                    gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    idle = socket.create_connection(("127.0.0.1", r.port))
    result: list[tuple[int, bytes]] = []
    t = threading.Thread(target=lambda: result.append(body_of(r, path="/sleep/1.0")))
    t.start()
    time.sleep(0.3)
    r.proc.send_signal(signal.SIGTERM)
    t.join(5)
    assert result == [(200, b"slept")]
    assert r.proc.wait(5) == 0
    assert idle.recv(10) == b""  # idle keep-alive connection closed, not left hanging
    idle.close()
