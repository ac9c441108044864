from __future__ import annotations

import uuid

from hoist.router.headers import (build_request_head, build_response_head, choose_request_id,
                                  valid_request_id)


def test_request_id_kept_only_when_valid() -> None:
    good = b"abcdefghij0123456789+=/-"
    assert valid_request_id(good) and choose_request_id(good) == good
    for bad in (b"short", b"x" * 201, b"has space in it 1234567", b"semi;colon;0123456789ab", None):
        rid = choose_request_id(bad)
        assert rid != bad and uuid.UUID(rid.decode()).version == 4


def _head(headers: list[tuple[bytes, bytes]], **kw: object) -> bytes:
    args: dict = dict(client_ip="10.0.0.9", proto=b"http", port=b"5000", request_id=b"r" * 20,
                      start_ms=1700000000123, chunked=False, upgrade=None)
    args.update(kw)
    return build_request_head(b"GET", b"/p?q=1", headers, **args)


def test_request_head_forwarding_headers() -> None:
    head = _head([(b"Host", b"notes.localhost"), (b"X-Forwarded-For", b"1.2.3.4"),
                  (b"X-Forwarded-Proto", b"https"), (b"Connection", b"keep-alive, X-Secret"),
                  (b"X-Secret", b"hop"), (b"Keep-Alive", b"timeout=5"), (b"Expect", b"100-continue"),
                  (b"X-Request-Id", b"client"), (b"Accept", b"*/*")])
    lines = head.decode().split("\r\n")
    assert lines[0] == "GET /p?q=1 HTTP/1.1"
    assert "X-Forwarded-For: 1.2.3.4, 10.0.0.9" in lines
    assert "X-Forwarded-Proto: http" in lines and "X-Forwarded-Port: 5000" in lines
    assert "X-Request-Id: " + "r" * 20 in lines and "X-Request-Start: 1700000000123" in lines
    assert "Host: notes.localhost" in lines and "Accept: */*" in lines
    for gone in ("Connection", "X-Secret", "Keep-Alive", "Expect", "X-Request-Id: client"):
        assert not any(ln.startswith(gone) for ln in lines), gone
    assert head.endswith(b"\r\n\r\n")


def test_request_head_chunked_and_upgrade() -> None:
    head = _head([(b"Transfer-Encoding", b"chunked")], chunked=True)
    assert head.count(b"Transfer-Encoding: chunked\r\n") == 1
    head = _head([(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade")], upgrade=b"websocket")
    assert b"Connection: upgrade\r\nUpgrade: websocket\r\n" in head


def test_response_head_reframing() -> None:
    hs = [(b"Content-Type", b"text/plain"), (b"Connection", b"close"),
          (b"Transfer-Encoding", b"chunked")]
    head = build_response_head(200, b"OK", hs, chunked=True, close=False)
    assert head == (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n")
    head = build_response_head(200, b"OK", [(b"Content-Length", b"3")], chunked=False, close=True)
    assert head.endswith(b"Content-Length: 3\r\nConnection: close\r\n\r\n")
    head = build_response_head(101, b"Switching Protocols", [(b"Upgrade", b"websocket"),
                               (b"Connection", b"Upgrade")], chunked=False, close=False,
                               upgrade=True)
    assert b"Upgrade: websocket\r\n" in head and b"Connection: upgrade\r\n" in head
