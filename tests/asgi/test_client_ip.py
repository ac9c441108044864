from __future__ import annotations

from starlette.requests import Request

from hoist.asgi.client_ip import client_ip


def _request(peer: str, xff: str | None) -> Request:
    headers = [(b"x-forwarded-for", xff.encode())] if xff is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1234)})


def test_behind_the_router_the_last_forwarded_address_counts() -> None:
    assert client_ip(_request("127.0.0.1", "203.0.113.9")) == "203.0.113.9"
    # A client can only prepend: the entry the router appended is the last one.
    assert client_ip(_request("127.0.0.1", "1.2.3.4, 203.0.113.9")) == "203.0.113.9"


def test_a_non_loopback_peer_is_never_overridden() -> None:
    assert client_ip(_request("198.51.100.7", "1.2.3.4")) == "198.51.100.7"
    assert client_ip(_request("127.0.0.1", None)) == "127.0.0.1"
