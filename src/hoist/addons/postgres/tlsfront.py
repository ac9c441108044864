"""The TLS front of hoist's Postgres: `python -m hoist.addons.postgres.tlsfront --listen H:P --upstream H:P
--cert C --key K`. It answers Postgres's own SSL negotiation (SSLRequest, GSSENCRequest, PG 17+ direct SSL),
ends TLS, and relays bytes to the cluster in plaintext; clients that do not ask for SSL are relayed as they are.
Only the first message is looked at: after it, bytes are copied between two transports as they come."""
from __future__ import annotations

import argparse
import asyncio
import socket
import ssl
import sys
from pathlib import Path
from typing import cast

from hoist.addons.postgres.startup import ALPN, HEAD_LEN, Kind, classify, error_response, is_direct_tls

NEGOTIATE_TIMEOUT_S = 30.0  # a client that says nothing is dropped, like authentication_timeout
MAX_GSSENC_ROUNDS = 2


class Pipe(asyncio.Protocol):
    """One side of a relay: what it receives is written to its peer; flow control pauses the other side."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: Pipe | None = None
        self.early: list[bytes] = []
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        if self.peer is None:
            self.transport.pause_reading()  # nothing to relay to yet

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.write(data)
        else:
            self.early.append(data)

    def eof_received(self) -> bool:
        return False  # the wire protocol never half-closes: close both sides

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()  # after writing what is buffered

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None and not self.peer.lost:
            self.peer.transport.resume_reading()


def link(a: Pipe, b: Pipe) -> None:
    """Connect two pipes, flush what either received early, and start reading both."""
    a.peer, b.peer = b, a
    for src, dst in ((a, b), (b, a)):
        assert dst.transport is not None and src.transport is not None
        for chunk in src.early:
            dst.transport.write(chunk)
        src.early.clear()
    for side in (a, b):
        if side.lost:
            a.transport.close(), b.transport.close()  # type: ignore[union-attr]
            return
    for side in (a, b):
        side.transport.resume_reading()  # type: ignore[union-attr]


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    fut: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not fut.done():
            fut.set_result(None)

    loop.add_reader(sock.fileno(), ready)
    try:
        await fut
    finally:
        loop.remove_reader(sock.fileno())


async def _peek(loop: asyncio.AbstractEventLoop, sock: socket.socket, n: int) -> bytes:
    """Look at up to `n` bytes without taking them: a direct-SSL ClientHello must reach the TLS layer whole."""
    while True:
        try:
            return sock.recv(n, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            await _readable(loop, sock)


async def _recv_exactly(loop: asyncio.AbstractEventLoop, sock: socket.socket, n: int) -> bytes:
    """Read exactly `n` bytes, never more: what follows an SSLRequest belongs to the TLS handshake."""
    buf = b""
    while len(buf) < n:
        chunk = await loop.sock_recv(sock, n - len(buf))
        if not chunk:
            raise ConnectionResetError("the client closed the connection during the startup")
        buf += chunk
    return buf


async def negotiate(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> tuple[Kind, bytes]:
    """Answer SSL/GSSENC requests; return (kind, bytes already read that the cluster must get)."""
    for _ in range(MAX_GSSENC_ROUNDS + 1):
        first = await _peek(loop, sock, HEAD_LEN)
        if not first:
            raise ConnectionResetError("the client closed the connection before its startup message")
        if is_direct_tls(first):
            return Kind.DIRECT_TLS, b""
        head = await _recv_exactly(loop, sock, HEAD_LEN)
        kind = classify(head)
        if kind is Kind.GSSENC:
            await loop.sock_sendall(sock, b"N")  # no GSSAPI here; the client sends its next first message
            continue
        if kind is Kind.SSL:
            await loop.sock_sendall(sock, b"S")
            return kind, b""
        return kind, head
    return Kind.INVALID, b""


class Front:
    def __init__(self, upstream: tuple[str, int], ctx: ssl.SSLContext) -> None:
        self.upstream = upstream
        self.ctx = ctx
        self.tasks: set[asyncio.Task[None]] = set()

    async def handle(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        client = Pipe()
        transport: asyncio.Transport | None = None
        try:
            async with asyncio.timeout(NEGOTIATE_TIMEOUT_S):
                kind, head = await negotiate(loop, sock)
                if kind is Kind.INVALID:
                    await loop.sock_sendall(sock, error_response("08P01", "invalid startup packet layout"))
                    sock.close()
                    return
                tls = kind in (Kind.SSL, Kind.DIRECT_TLS)
                transport, _ = await loop.connect_accepted_socket(
                    lambda: client, sock, ssl=self.ctx if tls else None,
                    **({"ssl_handshake_timeout": NEGOTIATE_TIMEOUT_S} if tls else {}))
            if kind is Kind.DIRECT_TLS and _alpn(transport) != ALPN:
                transport.abort()  # PostgreSQL insists on ALPN for direct SSL, so does its front
                return
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError):
            if transport is not None:
                transport.abort()
            else:
                sock.close()
            return
        upstream = Pipe()
        try:
            await loop.create_connection(lambda: upstream, *self.upstream)
        except OSError:
            if kind is not Kind.CANCEL:
                transport.write(error_response(
                    "57P03", "the database system is not accepting connections: hoist is (re)starting "
                    "PostgreSQL; try again in a few seconds"))
            transport.close()
            return
        if head:
            assert upstream.transport is not None
            upstream.transport.write(head)
        link(client, upstream)

    async def serve(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        lsock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((host, port))
        lsock.listen(512)
        lsock.setblocking(False)
        while True:
            sock, _ = await loop.sock_accept(lsock)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = asyncio.create_task(self.handle(sock))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


def _alpn(transport: asyncio.BaseTransport) -> str | None:
    obj = transport.get_extra_info("ssl_object")
    return obj.selected_alpn_protocol() if obj is not None else None


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.2+ (PostgreSQL's own default minimum), ALPN `postgresql` for direct-SSL clients."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols([ALPN])
    return ctx


def parse_addr(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:5432)")
    return host.strip("[]"), int(port)


async def run(listen: list[tuple[str, int]], upstream: tuple[str, int], ctx: ssl.SSLContext) -> None:
    """Serve until stopped (on each listen address: loopback, and the swarm host address when dynos run on a
    swarm). It does not exit with hoist: it runs under a shim in its own cgroup, so a restart of hoist costs
    no database connection; the next hoist adopts it (or stops it)."""
    front = Front(upstream, ctx)
    await asyncio.gather(*(front.serve(*addr) for addr in listen))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hoist.addons.postgres.tlsfront", description=__doc__)
    ap.add_argument("--listen", required=True, action="append", help="HOST:PORT clients connect to (repeatable)")
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the PostgreSQL server")
    ap.add_argument("--cert", required=True, type=Path, help="PEM certificate chain")
    ap.add_argument("--key", required=True, type=Path, help="PEM private key")
    args = ap.parse_args(argv)
    try:
        listen, upstream = [parse_addr(a) for a in args.listen], parse_addr(args.upstream)
    except ValueError as exc:
        ap.error(str(exc))
    try:
        ctx = server_context(args.cert, args.key)
    except (OSError, ssl.SSLError) as exc:
        print(f"tlsfront: cannot load {args.cert} / {args.key}: {exc}; reissue them (restart hoist)",
              file=sys.stderr)
        return 2
    try:
        import uvloop  # optional: a faster loop for the relay
    except ImportError:
        uvloop = None  # type: ignore[assignment]
    coro = run(listen, upstream, ctx)
    try:
        if uvloop is not None:
            uvloop.run(coro)
        else:
            asyncio.run(coro)
    except OSError as exc:
        print(f"tlsfront: cannot listen on {', '.join(args.listen)}: {exc}; free the port or set HOIST_PG_PORT",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
