"""Request and response heads as the router rewrites them (pure)."""
from __future__ import annotations

import re
import uuid
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


def choose_request_id(client_value: bytes | None) -> bytes:
    """The client's request id if valid, else a fresh uuid4."""
    if client_value is not None and _REQUEST_ID.fullmatch(client_value):
        return client_value
    return str(uuid.uuid4()).encode()


def connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    """Lower-cased tokens of all Connection headers (they name more hop-by-hop headers)."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b","))
    return tokens


def build_request_head(
    method: bytes, target: bytes, headers: Headers, *, client_ip: str, proto: bytes,
    port: bytes, request_id: bytes, start_ms: int, chunked: bool, upgrade: bytes | None,
) -> bytes:
    """The request head sent upstream: HTTP/1.1, hop-by-hop removed, forwarding added."""
    out = [method, b" ", target, b" HTTP/1.1\r\n"]
    forwarded_for: bytes | None = None
    nominated = connection_tokens(headers)
    for name, value in headers:
        lname = name.lower()
        if lname in REQUEST_DROP or lname in nominated:
            if lname == b"x-forwarded-for":
                forwarded_for = value if forwarded_for is None else forwarded_for + b", " + value
            continue
        out += (name, b": ", value, b"\r\n")
    ip = client_ip.encode()
    fwd = ip if forwarded_for is None else forwarded_for + b", " + ip
    out += (b"X-Forwarded-For: ", fwd, b"\r\nX-Forwarded-Proto: ", proto,
            b"\r\nX-Forwarded-Port: ", port, b"\r\nX-Request-Id: ", request_id,
            b"\r\nX-Request-Start: ", str(start_ms).encode(), b"\r\n")
    if chunked:
        out.append(b"Transfer-Encoding: chunked\r\n")
    if upgrade is not None:
        out += (b"Connection: upgrade\r\nUpgrade: ", upgrade, b"\r\n")
    out.append(b"\r\n")
    return b"".join(out)


def build_response_head(
    status: int, reason: bytes, headers: Headers, *, chunked: bool, close: bool,
    upgrade: bool = False,
) -> bytes:
    """The response head sent to the client, re-framed for the client connection."""
    out = [b"HTTP/1.1 ", str(status).encode(), b" ", reason or b"-", b"\r\n"]
    nominated = connection_tokens(headers)
    for name, value in headers:
        lname = name.lower()
        if lname in HOP_BY_HOP or lname in nominated:
            if upgrade and lname == b"upgrade":
                out += (name, b": ", value, b"\r\n")
            continue
        out += (name, b": ", value, b"\r\n")
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
