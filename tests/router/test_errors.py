"""Router error pages and Heroku error codes, against real (misbehaving) upstreams."""
from __future__ import annotations

import socket
import time
from typing import Any, Callable

from hoist.contracts.router_log import parse_message
from tests.router.conftest import RouterProc, app_routes, free_port, read_head


def exchange(r: RouterProc, raw: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the router closes or the timeout."""
    with socket.create_connection(("127.0.0.1", r.port), timeout=timeout) as s:
        s.sendall(raw)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def req(host: str, path: str = "/", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode()


def last_log(r: RouterProc, n: int = 1) -> dict[str, str]:
    r.wait(lambda: len(r.lines) >= n)
    app, _, msg = r.lines[n - 1].rstrip("\n").partition("\t")
    return {"app": app, **parse_message(msg)}


def test_unknown_host_404_no_log(start_router: Callable[..., RouterProc]) -> None:
    r = start_router(app_routes("notes", []))
    out = exchange(r, req("nope.localhost"))
    assert out.startswith(b"HTTP/1.1 404") and b"No such app" in out and b"hoist apps" in out
    time.sleep(0.2)
    assert r.lines == []


def test_h14_no_web_dynos(start_router: Callable[..., RouterProc]) -> None:
    r = start_router(app_routes("notes", []))
    out = exchange(r, req("notes.localhost"))
    assert out.startswith(b"HTTP/1.1 503") and b"H14" in out
    kv = last_log(r)
    assert kv["app"] == "notes" and kv["at"] == "error" and kv["code"] == "H14"
    assert kv["desc"] == "No web processes running" and kv["status"] == "503"
    assert kv["dyno"] == "" and kv["connect"] == "" and int(kv["bytes"]) > 0


def test_h10_crashed_and_all_refused(start_router: Callable[..., RouterProc]) -> None:
    r = start_router(app_routes("notes", [], app={"state": "crashed"}))
    out = exchange(r, req("notes.localhost"))
    assert out.startswith(b"HTTP/1.1 503") and b"H10" in out
    assert last_log(r)["code"] == "H10"
    r.write_routes(app_routes("notes", [f"127.0.0.1:{free_port()}"]))
    out = exchange(r, req("notes.localhost"))
    assert out.startswith(b"HTTP/1.1 503") and b"H10" in out
    assert last_log(r, 2)["code"] == "H10"


def test_maintenance_h80(start_router: Callable[..., RouterProc], gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"], app={"maintenance": True}))
    out = exchange(r, req("notes.localhost"))
    assert out.startswith(b"HTTP/1.1 503") and b"maintenance" in out
    assert last_log(r)["code"] == "H80"


def test_h12_request_timeout(start_router: Callable[..., RouterProc], gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"], request_timeout=0.5))
    t0 = time.monotonic()
    out = exchange(r, req("notes.localhost", "/sleep/2.0"))
    assert time.monotonic() - t0 < 2.5
    assert out.startswith(b"HTTP/1.1 503") and b"H12" in out
    kv = last_log(r)
    assert kv["code"] == "H12" and kv["dyno"] == "web.1" and kv["status"] == "503"


def test_h13_closed_without_response(start_router: Callable[..., RouterProc],
                                     raw_server: Callable[..., Any]) -> None:
    def rude(sock: socket.socket) -> None:
        read_head(sock)
        sock.close()
    up = raw_server(rude)
    r = start_router(app_routes("notes", [up.addr]))
    out = exchange(r, req("notes.localhost"))
    assert out.startswith(b"HTTP/1.1 503") and b"H13" in out
    kv = last_log(r)
    assert kv["code"] == "H13" and kv["desc"] == "Connection closed without response"


def test_h18_closed_mid_response(start_router: Callable[..., RouterProc],
                                 raw_server: Callable[..., Any]) -> None:
    def half(sock: socket.socket) -> None:
        read_head(sock)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        time.sleep(0.2)
        sock.close()
    up = raw_server(half)
    r = start_router(app_routes("notes", [up.addr]))
    out = exchange(r, req("notes.localhost"))
    assert out.startswith(b"HTTP/1.1 200") and out.endswith(b"partial")
    kv = last_log(r)
    assert kv["code"] == "H18" and kv["status"] == "200"


def test_h27_client_gone_cancels_upstream(start_router: Callable[..., RouterProc],
                                          raw_server: Callable[..., Any]) -> None:
    seen_close: list[float] = []

    def slow(sock: socket.socket) -> None:
        read_head(sock)
        sock.settimeout(5)
        if sock.recv(10) == b"":  # the router closed its side: upstream cancelled
            seen_close.append(time.monotonic())
    up = raw_server(slow)
    r = start_router(app_routes("notes", [up.addr]))
    with socket.create_connection(("127.0.0.1", r.port)) as s:
        s.sendall(req("notes.localhost"))
        time.sleep(0.3)
    kv = last_log(r)
    assert kv["code"] == "H27" and kv["status"] == "499"
    r.wait(lambda: bool(seen_close), ["upstream never saw the close"])


def test_bad_requests(start_router: Callable[..., RouterProc], gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    assert exchange(r, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert exchange(r, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert exchange(r, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 400")
    long_url = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: notes.localhost\r\n\r\n"
    assert exchange(r, long_url).startswith(b"HTTP/1.1 431")
    big = "".join(f"X-Filler-{i}: {'v' * 1000}\r\n" for i in range(70))
    assert exchange(r, req("notes.localhost", extra=big)).startswith(b"HTTP/1.1 431")
    # The router still serves normal requests afterwards.
    assert exchange(r, req("notes.localhost")).startswith(b"HTTP/1.1 200")


def test_slow_header_client_does_not_block_others(start_router: Callable[..., RouterProc],
                                                  gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]), "--header-timeout", "1")
    slow = socket.create_connection(("127.0.0.1", r.port), timeout=5)
    slow.sendall(b"GET / HTTP/1.1\r\nHo")
    t0 = time.monotonic()
    assert exchange(r, req("notes.localhost")).startswith(b"HTTP/1.1 200")
    assert time.monotonic() - t0 < 0.5
    slow.sendall(b"st: notes")  # still trickling
    out = b""
    while chunk := slow.recv(4096):
        out += chunk
    assert out.startswith(b"HTTP/1.1 408") and time.monotonic() - t0 < 3
    slow.close()
