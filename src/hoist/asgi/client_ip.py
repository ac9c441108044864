"""The address a request really came from.

The platform API listens only on a Unix socket in hoist's root-only run
directory (no TCP port a local process could reach): its clients are
hoist's own router, which appends the client's address to X-Forwarded-For,
and the git hook. Only the last entry is trusted (the router wrote it; a
client can only put things before it), and only from the internal socket
(no TCP peer) or a loopback peer (an API served some other way, as tests
do); any other peer is what it is."""
from __future__ import annotations

from starlette.requests import Request

_LOOPBACK = {"127.0.0.1", "::1"}
INTERNAL = "hoist"  # a request over the internal socket with no X-Forwarded-For: one of hoist's own processes


def client_ip(request: Request) -> str:
    peer = request.client.host if request.client else None
    if peer is None or peer in _LOOPBACK:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return peer if peer is not None else INTERNAL
