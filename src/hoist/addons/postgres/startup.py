"""Pure parsing of a Postgres client's first message (before any TLS), for the TLS front."""
from __future__ import annotations

import enum
import struct

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
TLS_HANDSHAKE = 0x16  # first byte of a TLS record carrying a ClientHello (PG 17+ "direct SSL")
HEAD_LEN = 8  # int32 length + int32 code: enough to tell every first message apart
MAX_STARTUP_LEN = 10000  # PostgreSQL's MAX_STARTUP_PACKET_LENGTH
MAX_CANCEL_LEN = 12 + 256  # protocol 3.2 allows cancel keys of up to 256 bytes
ALPN = "postgresql"


class Kind(enum.Enum):
    SSL = "ssl"
    GSSENC = "gssenc"
    CANCEL = "cancel"
    STARTUP = "startup"
    DIRECT_TLS = "direct-tls"
    INVALID = "invalid"


def is_direct_tls(first: bytes) -> bool:
    """True if the client opened with a TLS record (no SSLRequest): a startup length can never start with 0x16."""
    return bool(first) and first[0] == TLS_HANDSHAKE


def classify(head: bytes) -> Kind:
    """Tell the first message apart from its first 8 bytes (length, code); INVALID if it is none we know."""
    if is_direct_tls(head):
        return Kind.DIRECT_TLS
    if len(head) < HEAD_LEN:
        return Kind.INVALID
    length, code = struct.unpack("!II", head[:HEAD_LEN])
    if code == SSL_REQUEST:
        return Kind.SSL if length == HEAD_LEN else Kind.INVALID
    if code == GSSENC_REQUEST:
        return Kind.GSSENC if length == HEAD_LEN else Kind.INVALID
    if code == CANCEL_REQUEST:
        return Kind.CANCEL if 16 <= length <= MAX_CANCEL_LEN else Kind.INVALID
    # A StartupMessage: its code is the protocol version, major 3 (minor 0 or 2 today).
    if code >> 16 == 3 and HEAD_LEN < length <= MAX_STARTUP_LEN:
        return Kind.STARTUP
    return Kind.INVALID


def error_response(code: str, message: str) -> bytes:
    """A FATAL ErrorResponse ('E' message) a client shows as the server's own error."""
    fields = b"".join(tag + value.encode() + b"\0" for tag, value in
                      ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message)))
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body
