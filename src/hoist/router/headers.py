"""Request and response heads as the router rewrites them (pure)."""
from __future__ import annotations

import os
import re
from collections.abc import Iterable

Headers = list[tuple[bytes, bytes]]

# Hop-by-hop headers (RFC 9110 7.6.1) describe one connection, never the next hop's.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
    b"transfer-encoding", b"upgrade", b"proxy-authenticate", b"proxy-authorization",
})
# The router answers Expect itself and owns the forwarding headers it sets.
REQUEST_DROP = HOP_BY_HOP | {
    b"expect", b"x-forwarded-proto", b"x-forwarded-port", b"x-request-id",
    b"x-request-start", b"x-forwarded-for",
}

_REQUEST_ID = re.compile(rb"[A-Za-z0-9+=/-]{20,200}")


def valid_request_id(value: bytes | None) -> bool:
    """True if a client-sent X-Request-Id may be kept (20-200 of [A-Za-z0-9+=/-])."""
    return value is not None and _REQUEST_ID.fullmatch(value) is not None


_VARIANT = b"89ab89ab89ab89ab"  # RFC 4122 variant: the top two bits of that nibble are 10
_ids: list[bytes] = []


def _refill() -> None:
    """Format 256 random uuid4s at once (one getrandom call, no UUID objects)."""
    raw = os.urandom(16 * 256).hex().encode()
    _ids[:] = [b"%b-%b-4%b-%c%b-%b" % (h[0:8], h[8:12], h[13:16], _VARIANT[int(h[16:17], 16)],
                                       h[17:20], h[20:32])
               for h in (raw[i:i + 32] for i in range(0, len(raw), 32))]


def new_request_id() -> bytes:
    """A fresh random uuid4, as Heroku's router makes."""
    if not _ids:
        _refill()
    return _ids.pop()


def choose_request_id(client_value: bytes | None) -> bytes:
    """The client's request id if valid, else a fresh uuid4."""
    if client_value is not None and _REQUEST_ID.fullmatch(client_value):
        return client_value
    if not _ids:
        _refill()
    return _ids.pop()


def connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    """Lower-cased tokens of all Connection headers (they name more hop-by-hop headers)."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b","))
    return tokens


_PLAIN_VALUES = frozenset({b"close", b"keep-alive", b"upgrade", b"Keep-Alive", b"Upgrade",
                           b"Close"})


def _nominates(value: bytes) -> bool:
    """True if a Connection value names headers beyond close/keep-alive/upgrade."""
    if value in _PLAIN_VALUES:
        return False
    return bool({t.strip().lower() for t in value.split(b",")} - _PLAIN_TOKENS)


_PLAIN_TOKENS = frozenset({b"close", b"keep-alive", b"upgrade", b""}) | HOP_BY_HOP


def build_request_head(
    method: bytes, target: bytes, headers: Headers, *, client_ip: str, proto: bytes,
    port: bytes, request_id: bytes, start_ms: int, chunked: bool, upgrade: bytes | None,
) -> bytes:
    """The request head sent upstream: HTTP/1.1, hop-by-hop removed, forwarding added."""
    out = [b"%b %b HTTP/1.1\r\n" % (method, target)]
    forwarded_for: bytes | None = None
    drop = REQUEST_DROP
    for name, value in headers:
        if name.lower() == b"connection" and _nominates(value):
            drop = REQUEST_DROP | connection_tokens(headers)
            break
    for name, value in headers:
        lname = name.lower()
        if lname in drop:
            if lname == b"x-forwarded-for":
                forwarded_for = value if forwarded_for is None else forwarded_for + b", " + value
            continue
        out.append(b"%b: %b\r\n" % (name, value))
    ip = client_ip.encode()
    fwd = ip if forwarded_for is None else forwarded_for + b", " + ip
    out.append(b"X-Forwarded-For: %b\r\nX-Forwarded-Proto: %b\r\nX-Forwarded-Port: %b\r\n"
               b"X-Request-Id: %b\r\nX-Request-Start: %d\r\n"
               % (fwd, proto, port, request_id, start_ms))
    if chunked:
        out.append(b"Transfer-Encoding: chunked\r\n")
    if upgrade is not None:
        out.append(b"Connection: upgrade\r\nUpgrade: %b\r\n" % upgrade)
    out.append(b"\r\n")
    return b"".join(out)


def build_response_head(
    status: int, reason: bytes, headers: Headers, *, chunked: bool, close: bool,
    upgrade: bool = False,
) -> bytes:
    """The response head sent to the client, re-framed for the client connection."""
    out = [b"HTTP/1.1 %d %b\r\n" % (status, reason or b"-")]
    drop = HOP_BY_HOP
    for name, value in headers:
        if name.lower() == b"connection" and _nominates(value):
            drop = HOP_BY_HOP | connection_tokens(headers)
            break
    for name, value in headers:
        lname = name.lower()
        if lname in drop and not (upgrade and lname == b"upgrade"):
            continue
        out.append(b"%b: %b\r\n" % (name, value))
    if upgrade:
        out.append(b"Connection: upgrade\r\n")
    elif close:
        out.append(b"Connection: close\r\n")
    if chunked:
        out.append(b"Transfer-Encoding: chunked\r\n")
    out.append(b"\r\n")
    return b"".join(out)


def header_value(headers: Headers, lname: bytes) -> bytes | None:
    """The first value of a header by lower-case name, or None."""
    for name, value in headers:
        if name.lower() == lname:
            return value
    return None
