"""The router in front of a real gunicorn + Flask app."""
from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any, Callable

from hoist.contracts.router_log import parse_message
from tests.router.conftest import RouterProc, app_routes, read_head


def conn(r: RouterProc) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)


def get(r: RouterProc, path: str, host: str = "notes.localhost",
        headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    c = conn(r)
    c.request(method, path, headers={"Host": host, **(headers or {})})
    resp = c.getresponse()
    body = resp.read()
    c.close()
    return resp.status, dict(resp.getheaders()), body


def test_forwarded_headers_and_log_line(start_router: Callable[..., RouterProc],
                                        gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    before = int(time.time() * 1000)
    status, hdrs, body = get(r, "/headers?x=1", host="Notes.Localhost.:80",
                             headers={"X-Forwarded-For": "203.0.113.7"})
    assert status == 200
    echoed = json.loads(body)
    assert echoed["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"
    assert echoed["X-Forwarded-Proto"] == "http"
    assert echoed["X-Forwarded-Port"] == str(r.port)
    assert before <= int(echoed["X-Request-Start"]) <= int(time.time() * 1000)
    rid = echoed["X-Request-Id"]
    app, _, msg = r.log_for(rid).rstrip("\n").partition("\t")
    kv = parse_message(msg)
    assert app == "notes" and msg.startswith("at=info ")
    assert kv["method"] == "GET" and kv["path"] == "/headers?x=1" and kv["status"] == "200"
    assert kv["host"] == "notes.localhost" and kv["dyno"] == "web.1"
    assert kv["fwd"] == "203.0.113.7, 127.0.0.1" and kv["protocol"] == "http"
    assert kv["connect"].endswith("ms") and kv["service"].endswith("ms")
    assert int(kv["bytes"]) >= len(body)


def test_request_id_kept_or_generated(start_router: Callable[..., RouterProc],
                                      gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    mine = "client-supplied-request-id-0123456789"
    _, _, body = get(r, "/headers", headers={"X-Request-Id": mine})
    assert json.loads(body)["X-Request-Id"] == mine
    r.log_for(mine)
    _, _, body = get(r, "/headers", headers={"X-Request-Id": "too short"})
    rid = json.loads(body)["X-Request-Id"]
    assert rid != "too short" and len(rid) == 36


def test_client_keep_alive_two_requests_one_connection(start_router: Callable[..., RouterProc],
                                                       gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    c = conn(r)
    c.request("GET", "/", headers={"Host": "notes.localhost"})
    resp = c.getresponse()
    assert resp.read() == b"hello from flask"
    assert resp.getheader("Connection") is None  # gunicorn's close is not passed on
    sock = c.sock
    c.request("GET", "/pid", headers={"Host": "notes.localhost"})
    resp = c.getresponse()
    assert resp.status == 200 and resp.read().isdigit()
    assert c.sock is sock and sock is not None
    c.close()


def test_chunked_upload_streams(start_router: Callable[..., RouterProc], gunicorn: int) -> None:
    import hashlib
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    chunks = [bytes([i]) * 100_000 for i in range(20)]
    c = conn(r)
    c.request("POST", "/upload", body=iter(chunks), encode_chunked=True,
              headers={"Host": "notes.localhost", "Transfer-Encoding": "chunked"})
    got = json.loads(c.getresponse().read())
    assert got == {"bytes": 2_000_000, "sha256": hashlib.sha256(b"".join(chunks)).hexdigest()}
    # Content-Length bodies and Expect: 100-continue go through as well.
    c.request("PUT", "/upload", body=b"x" * 300_000,
              headers={"Host": "notes.localhost", "Expect": "100-continue"})
    assert json.loads(c.getresponse().read())["bytes"] == 300_000
    c.close()


def test_streaming_response_arrives_incrementally(start_router: Callable[..., RouterProc],
                                                  gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    c = conn(r)
    c.request("GET", "/stream", headers={"Host": "notes.localhost"})
    resp = c.getresponse()
    t0 = time.monotonic()
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.readline() == b"first\n"
    t1 = time.monotonic()
    assert resp.readline() == b"second\n"
    t2 = time.monotonic()
    assert t1 - t0 < 0.5 and t2 - t1 > 0.5, (t1 - t0, t2 - t1)
    c.close()


def test_head_and_204_have_no_body(start_router: Callable[..., RouterProc],
                                   gunicorn: int) -> None:
    r = start_router(app_routes("notes", [f"127.0.0.1:{gunicorn}"]))
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
        s.sendall(b"HEAD / HTTP/1.1\r\nHost: notes.localhost\r\n\r\n")
        head, rest = read_head(s)
        assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: 16" in head
        assert rest == b""
        s.sendall(b"GET /empty HTTP/1.1\r\nHost: notes.localhost\r\n\r\n")
        head, rest = read_head(s)
        assert head.startswith(b"HTTP/1.1 204") and b"Transfer-Encoding" not in head
        s.sendall(b"GET / HTTP/1.1\r\nHost: notes.localhost\r\n\r\n")  # same connection still OK
        head, rest = read_head(s)
        while len(rest) < 16:
            rest += s.recv(100)
        assert head.startswith(b"HTTP/1.1 200") and rest == b"hello from flask"


def test_round_robin_and_dead_backend_fallback(start_router: Callable[..., RouterProc],
                                               raw_server: Callable[..., Any]) -> None:
    from tests.router.conftest import free_port, named_server
    a, b = raw_server(named_server("A")), raw_server(named_server("B"))
    dead = f"127.0.0.1:{free_port()}"
    r = start_router(app_routes("notes", [a.addr, dead, b.addr]))
    bodies = [get(r, "/")[2] for _ in range(6)]
    assert set(bodies) == {b"A", b"B"}
    assert any("connect to web.2" in e for e in r.errors)
