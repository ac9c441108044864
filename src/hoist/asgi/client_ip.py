"""The address a request really came from.

The platform API sits behind hoist's own router, so the TCP peer is always
127.0.0.1; the router appends the client's address to X-Forwarded-For.
Only the last entry is trusted (the router wrote it; a client can only put
things before it), and only when the peer is loopback."""
from __future__ import annotations

from starlette.requests import Request

_LOOPBACK = {"127.0.0.1", "::1"}


def client_ip(request: Request) -> str:
    peer = request.client.host if request.client else "?"
    if peer in _LOOPBACK:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return peer
