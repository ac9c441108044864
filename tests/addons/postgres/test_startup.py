"""Pure parts of the Postgres TLS front: the first message, its error replies, port planning, renewal."""
from __future__ import annotations

import datetime as dt
import shutil
import struct
import tempfile
from pathlib import Path

from hoist.addons.postgres.front import PortPlan, needs_new_cert, plan_ports
from hoist.addons.postgres.startup import Kind, classify, error_response, is_direct_tls
from hoist.tls.ca import LocalCA


def head(length: int, code: int) -> bytes:
    return struct.pack("!II", length, code)


def test_first_messages_are_told_apart() -> None:
    assert classify(head(8, 80877103)) is Kind.SSL
    assert classify(head(8, 80877104)) is Kind.GSSENC
    assert classify(head(16, 80877102)) is Kind.CANCEL
    assert classify(head(12 + 32, 80877102)) is Kind.CANCEL  # protocol 3.2: longer cancel keys
    assert classify(head(84, 3 << 16)) is Kind.STARTUP
    assert classify(head(84, (3 << 16) | 2)) is Kind.STARTUP
    # A TLS ClientHello first (PG 17 sslnegotiation=direct): 0x16 can never begin a startup length.
    hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01])
    assert classify(hello) is Kind.DIRECT_TLS and is_direct_tls(hello[:1])
    assert not is_direct_tls(b"") and not is_direct_tls(head(8, 80877103))


def test_malformed_first_messages_are_invalid() -> None:
    assert classify(head(9, 80877103)) is Kind.INVALID  # an SSLRequest is exactly 8 bytes
    assert classify(head(12, 80877104)) is Kind.INVALID
    assert classify(head(8, 80877102)) is Kind.INVALID  # no room for pid and key
    assert classify(head(10001, 3 << 16)) is Kind.INVALID  # over PostgreSQL's startup packet limit
    assert classify(head(84, 2 << 16)) is Kind.INVALID  # protocol 2 is long gone
    assert classify(b"GET / HT") is Kind.INVALID
    assert classify(head(8, 80877103)[:5]) is Kind.INVALID


def test_error_response_is_a_fatal_postgres_error() -> None:
    msg = error_response("57P03", "starting up")
    assert msg[:1] == b"E" and struct.unpack("!I", msg[1:5])[0] == len(msg) - 1
    fields = dict((f[:1], f[1:].decode()) for f in msg[5:-2].split(b"\0"))
    assert fields == {b"S": "FATAL", b"V": "FATAL", b"C": "57P03", b"M": "starting up"}
    assert msg.endswith(b"\0\0")


def test_port_plan_keeps_existing_urls_working() -> None:
    assert plan_ports(0, None, None) == PortPlan(None, False)  # new install: any free port, kept
    assert plan_ports(0, 6001, 7001) == PortPlan(6001, False)  # later starts: the kept port
    # Upgrade: URLs name the cluster's port, so the front takes it and the cluster moves.
    assert plan_ports(0, None, 7001) == PortPlan(7001, True)
    assert plan_ports(5432, 6001, 7001) == PortPlan(5432, False)  # HOIST_PG_PORT wins
    assert plan_ports(7001, None, 7001) == PortPlan(7001, True)


def test_certificate_is_renewed_before_it_expires() -> None:
    root = Path(tempfile.mkdtemp(prefix="hoist-front-cert-"))
    ca = LocalCA(root / "ca")
    ca.ensure()
    pair = ca.issue(["localhost", "127.0.0.1"], root / "leaf")
    now = dt.datetime.now(dt.timezone.utc)
    assert not needs_new_cert(pair.cert, now)
    assert needs_new_cert(pair.cert, now + dt.timedelta(days=380))
    assert needs_new_cert(root / "missing.pem", now)
    assert needs_new_cert(pair.cert, now, also="10.227.0.1")  # swarm dynos connect there: it must be named
    both = ca.issue(["localhost", "127.0.0.1", "10.227.0.1"], root / "both")
    assert not needs_new_cert(both.cert, now, also="10.227.0.1")
    shutil.rmtree(root, ignore_errors=True)
