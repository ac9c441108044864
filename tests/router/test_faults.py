"""Faults and bad input the router must contain: a dying dyno, a vanishing
client, odd Host headers, and hosts of different apps on one connection."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable

from hoist.contracts.router_log import parse_message
from tests.router.conftest import RouterProc, app_routes, named_server, read_head
from tests.router.test_errors import exchange, req


def logs(r: RouterProc) -> list[dict[str, str]]:
    return [{"app": ln.partition("\t")[0], **parse_message(ln.rstrip("\n").partition("\t")[2])} for ln in r.lines]


def test_dyno_killed_mid_response_fails_that_request_only(start_router: Callable[..., RouterProc],
                                                         gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    slow: list[bytes] = []
    t = threading.Thread(target=lambda: slow.append(exchange(r, req("notes.localhost", "/sleep/0.6"))))
    t.start()
    time.sleep(0.1)
    out = exchange(r, req("notes.localhost", "/die"))
    # Headers were already sent: the client sees a truncated body and a closed connection (H18).
    assert out.startswith(b"HTTP/1.1 200") and b"partial" in out and not out.endswith(b"0\r\n\r\n")
    t.join(5)
    assert slow and slow[0].startswith(b"HTTP/1.1 200") and slow[0].endswith(b"slept")
    # Killed before any response: 503 H13, like Heroku (which also answers H13 with 503).
    out = exchange(r, req("notes.localhost", "/die-early"))
    assert out.startswith(b"HTTP/1.1 503") and b"H13" in out
    time.sleep(0.5)  # gunicorn's arbiter replaces the workers
    assert exchange(r, req("notes.localhost")).startswith(b"HTTP/1.1 200")
    r.wait(lambda: len(r.lines) >= 4)
    codes = sorted(kv.get("code", "-") for kv in logs(r))
    assert codes == ["-", "-", "H13", "H18"], codes


def test_client_gone_mid_body_cancels_upstream(start_router: Callable[..., RouterProc],
                                               raw_server: Callable[..., Any]) -> None:
    seen: list[int] = []

    def sink(sock: socket.socket) -> None:
        _, rest = read_head(sock)
        n = len(rest)
        sock.settimeout(5)
        while chunk := sock.recv(65536):
            n += len(chunk)
        seen.append(n)  # EOF: the router closed the upstream request
    up = raw_server(sink)
    r = start_router(app_routes("notes", [up.addr]))
    with socket.create_connection(("127.0.0.1", r.port)) as s:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: notes.localhost\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 5000)
        time.sleep(0.3)
    r.wait(lambda: bool(seen), ["upstream never saw the close"])
    assert 0 < seen[0] < 1000000
    kv = logs(r)[-1] if r.lines else None
    r.wait(lambda: bool(r.lines))
    kv = logs(r)[-1]
    assert kv["code"] == "H27" and kv["status"] == "499"


def test_host_forms_route_and_other_apps_never_mix(start_router: Callable[..., RouterProc],
                                                   raw_server: Callable[..., Any]) -> None:
    a, b = raw_server(named_server("A")), raw_server(named_server("B"))
    routes = app_routes("a", [a.addr])
    routes["apps"]["b"] = {"hosts": ["b.localhost", "www.b-example.com"], "state": "up",
                           "backends": [{"dyno": "web.1", "addr": b.addr}]}
    r = start_router(routes)
    for host, want in (("A.LOCALHOST", b"A"), ("a.localhost:5000", b"A"), ("a.localhost.", b"A"),
                       ("WWW.B-Example.com.:80", b"B"), ("[::1]", b"No such app"), ("a.localhost.evil", b"No such app")):
        out = exchange(r, req(host))
        assert out.endswith(want) or want in out, (host, out[:200])
    # One keep-alive client connection alternating between apps: each request reaches its own app.
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
        for i in range(6):
            host = "a.localhost" if i % 2 == 0 else "www.b-example.com"
            s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head, body = read_head(s)
            while len(body) < 1:
                body += s.recv(10)
            assert head.startswith(b"HTTP/1.1 200") and body == (b"A" if i % 2 == 0 else b"B"), (i, body)


def test_an_early_answer_from_a_backend_that_stops_reading_reaches_the_client(
        start_router: Callable[..., RouterProc], raw_server: Callable[..., Any]) -> None:
    """A backend refuses a large body with 413 after its head and closes without reading the rest: the
    router's next write to it fails, and its answer, already in the socket, must still reach the client
    (not a 503 H13)."""
    def refuse(sock: socket.socket) -> None:
        read_head(sock)
        sock.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")
        sock.close()  # with the body unread: the kernel answers the router's next bytes with a reset
    up = raw_server(refuse)
    r = start_router(app_routes("notes", [up.addr]))
    statuses = []
    for _ in range(10):
        with socket.create_connection(("127.0.0.1", r.port), timeout=10) as s:
            s.sendall(b"POST /upload HTTP/1.1\r\nHost: notes.localhost\r\nContent-Length: 8000000\r\n\r\n")
            try:
                for _ in range(40):
                    s.sendall(b"x" * 200_000)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                answer = s.recv(65536)
            except ConnectionResetError:
                answer = b""
            statuses.append(answer.split(b"\r\n", 1)[0])
    assert statuses == [b"HTTP/1.1 413 Payload Too Large"] * 10, statuses
