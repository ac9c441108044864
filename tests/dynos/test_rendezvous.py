"""The rendezvous server with real TLS: greeting, single-use and expiring secrets."""
from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from hoist.dynos.rendezvous import Rendezvous, parse_secret_line
from hoist.tls.ca import LocalCA


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def server() -> Iterator[tuple[Rendezvous, Clock, Path]]:
    d = Path(tempfile.mkdtemp(prefix="hoist-rdv-"))
    clock = Clock()
    rv = Rendezvous(LocalCA(d / "ca"), d / "cert", ttl=60, clock=clock)
    rv.start()
    yield rv, clock, d
    rv.close()
    shutil.rmtree(d, ignore_errors=True)


def _talk(rv: Rendezvous, ca: Path, secret: bytes, send: bytes = b"") -> bytes:
    ctx = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", rv.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(secret + b"\r\n" + send)
            got = b""
            while True:
                try:
                    chunk = tls.recv(4096)
                except (ssl.SSLError, OSError):
                    break
                if not chunk:
                    break
                got += chunk
            return got


def test_secret_line_parsing() -> None:
    assert parse_secret_line(b"abc") is None
    assert parse_secret_line(b"abc\r\nrest") == ("abc", b"rest")
    assert parse_secret_line(b"\xff\n") == ("", b"")


def test_greeting_then_handler_single_use(server: tuple[Rendezvous, Clock, Path]) -> None:
    rv, _, d = server
    calls: list[bytes] = []

    def handler(sock: ssl.SSLSocket, initial: bytes) -> None:
        calls.append(initial)
        sock.sendall(b"hello " + initial)

    rv.register("s3cret", handler)
    assert rv.url("s3cret") == f"rendezvous://127.0.0.1:{rv.port}/s3cret"
    assert _talk(rv, d / "ca" / "ca.pem", b"s3cret", b"early") == b"rendezvous\r\nhello early"
    assert _talk(rv, d / "ca" / "ca.pem", b"s3cret") == b""  # reused
    assert _talk(rv, d / "ca" / "ca.pem", b"wrong") == b""
    assert calls == [b"early"]


def test_expired_secret_is_refused(server: tuple[Rendezvous, Clock, Path]) -> None:
    rv, clock, d = server
    expired = threading.Event()
    rv.register("old", lambda s, i: None, on_expire=expired.set)
    clock.now += 61
    assert _talk(rv, d / "ca" / "ca.pem", b"old") == b""
    assert expired.is_set()
    rv.register("older", lambda s, i: None)
    clock.now += 61
    assert rv.expire() == 1
