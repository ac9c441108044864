"""Retries and idle limits: a backend that closes before answering, stale pooled
connections, and a client that stops sending its request body (H28)."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable

from tests.router.conftest import RouterProc, app_routes, named_server, read_head
from tests.router.test_errors import exchange, req
from tests.router.test_faults import logs


def hang_up(sock: socket.socket) -> None:
    """Like a killed dyno's queued connection: read the request, close without a byte."""
    read_head(sock)
    sock.close()


def test_bodiless_get_retried_once_on_another_backend(start_router: Callable[..., RouterProc],
                                                      raw_server: Callable[..., Any]) -> None:
    dead, alive = raw_server(hang_up), raw_server(named_server("two"))
    r = start_router(app_routes("notes", [dead.addr, alive.addr]))
    # Round robin starts at web.1 (the dead one): the GET is sent again to web.2.
    out = exchange(r, req("notes.localhost"))
    assert out.startswith(b"HTTP/1.1 200") and out.endswith(b"two")
    r.wait(lambda: bool(r.lines))
    kv = logs(r)[-1]
    assert kv["dyno"] == "web.2" and kv["status"] == "200" and "code" not in kv
    # A request with a body is never sent twice: web.1 is next again, and fails H13.
    exchange(r, req("notes.localhost"))  # web.2
    out = exchange(r, b"POST / HTTP/1.1\r\nHost: notes.localhost\r\nContent-Length: 2\r\n"
                      b"Connection: close\r\n\r\nhi")
    assert out.startswith(b"HTTP/1.1 503") and b"H13" in out
    r.wait(lambda: len(r.lines) >= 3)
    assert logs(r)[-1]["code"] == "H13" and logs(r)[-1]["dyno"] == "web.1"


def test_pooled_connection_not_reused_after_idle_second(start_router: Callable[..., RouterProc],
                                                        raw_server: Callable[..., Any]) -> None:
    conns: list[int] = []
    lock = threading.Lock()
    keep_alive = named_server("pooled")

    def counting(sock: socket.socket) -> None:
        with lock:
            conns.append(1)
        keep_alive(sock)
    up = raw_server(counting)
    r = start_router(app_routes("notes", [up.addr]))
    assert exchange(r, req("notes.localhost")).endswith(b"pooled")
    assert exchange(r, req("notes.localhost")).endswith(b"pooled")
    assert len(conns) == 1  # reused while fresh
    time.sleep(1.3)  # older than the pool's 1 s limit (gunicorn gthread closes after 2 s)
    assert exchange(r, req("notes.localhost")).endswith(b"pooled")
    assert len(conns) == 2


def test_h28_client_stops_sending_body(start_router: Callable[..., RouterProc],
                                       raw_server: Callable[..., Any]) -> None:
    def wait_for_body(sock: socket.socket) -> None:
        read_head(sock)
        sock.settimeout(10)
        while sock.recv(65536):
            pass
    up = raw_server(wait_for_body)
    r = start_router(app_routes("notes", [up.addr]), "--body-timeout", "0.5")
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: notes.localhost\r\nContent-Length: 100\r\n\r\nabc")
        t0 = time.monotonic()
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        assert 0.4 < time.monotonic() - t0 < 3.0
    r.wait(lambda: bool(r.lines))
    kv = logs(r)[-1]
    assert kv["code"] == "H28" and kv["desc"] == "Client Connection Idle" and kv["status"] == "499"
