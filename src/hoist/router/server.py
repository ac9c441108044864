"""The router process: listening socket, table reloads, timeouts sweep, graceful stop."""
from __future__ import annotations

import asyncio
import gc
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from hoist.router.logwriter import LogWriter
from hoist.router.proxy import ClientConnection
from hoist.router.table import RouteTable, load_table
from hoist.router.tls import Certificates
from hoist.router.upstream import Pool
from hoist.router.wake import Waker

DRAIN_SECONDS = 10.0
TICK = 0.1  # resolution of connect and request timeouts
GC_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)


@dataclass(frozen=True)
class TlsOptions:
    """Where the TLS listener binds and where its local certificates come from."""

    host: str
    port: int
    ca_dir: Path
    cache_dir: Path


class Router:
    """Shared state of all client connections in one router process."""

    def __init__(self, loop: asyncio.AbstractEventLoop, routes: Path, port: int, *,
                 header_timeout: float = 10.0, keepalive_timeout: float = 75.0,
                 body_timeout: float = 55.0, tls_port: int = 0, acme_dir: Path | None = None) -> None:
        self.loop = loop
        self.routes = routes
        self.port_bytes = str(port).encode()
        self.tls_port_bytes = str(tls_port).encode()
        self.acme_dir = acme_dir
        self.certs: Certificates | None = None
        self.header_timeout = header_timeout
        self.keepalive_timeout = keepalive_timeout
        self.body_timeout = body_timeout
        self.table = RouteTable()
        self.pool = Pool()
        self.logs = LogWriter(loop, sys.stdout.buffer)
        self.connections: set[ClientConnection] = set()
        self.waiting: set[ClientConnection] = set()  # with a connect/response deadline armed
        self._ticks = 0
        self.draining = False
        self.waker = Waker(self)
        self._rr: dict[str, int] = {}

    def warn(self, message: str) -> None:
        print(f"router: {message}", file=sys.stderr, flush=True)

    def reload(self) -> None:
        """Load the routes file; keep the last good table if it cannot be read."""
        try:
            self.table = load_table(self.routes)
        except FileNotFoundError:
            if not self.table.by_host:
                self.warn(f"{self.routes} does not exist yet; routing table is empty")
            else:
                self.warn(f"{self.routes} is missing; keeping the last good routing table")
        except (OSError, ValueError) as exc:
            self.warn(f"cannot load {self.routes} ({exc}); keeping the last good table")
        else:
            if self.certs is not None:
                self.certs.load(self.table.certs)
            self.warn(f"loaded {len(self.table.apps)} apps from {self.routes}")

    def next_index(self, app: str, n: int) -> int:
        """Round-robin position for an app's next request."""
        i = self._rr.get(app, -1) + 1
        if i >= n:
            i = 0
        self._rr[app] = i
        return i

    def tick(self) -> None:
        """Time out connects and responses (H19, H12) every TICK seconds; once a second,
        close connections past their header, body or keep-alive deadline."""
        now = self.loop.time()
        for conn in [c for c in self.waiting if now >= c.timer]:
            conn.on_timer()
        self._ticks += 1
        if self._ticks * TICK >= 1.0:
            self._ticks = 0
            for conn in [c for c in self.connections if c.deadline and now > c.deadline]:
                conn.deadline = 0.0
                conn.on_deadline()
            self.pool.sweep(now)
        self.loop.call_later(TICK, self.tick)


async def serve(host: str, port: int, routes: Path, *, header_timeout: float = 10.0,
                keepalive_timeout: float = 75.0, body_timeout: float = 55.0,
                tls: TlsOptions | None = None, acme_dir: Path | None = None) -> int:
    """Run the router until SIGTERM/SIGINT, then drain in-flight requests."""
    loop = asyncio.get_running_loop()
    router = Router(loop, routes, port, header_timeout=header_timeout,
                    keepalive_timeout=keepalive_timeout, body_timeout=body_timeout,
                    tls_port=tls.port if tls else 0, acme_dir=acme_dir)
    if tls is not None:
        router.certs = Certificates(tls.ca_dir, tls.cache_dir,
                                    lambda h: h in router.table.by_host, router.warn)
    router.reload()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, router.reload)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    server = await loop.create_server(lambda: ClientConnection(router), host, port,
                                      backlog=2048, reuse_address=True)
    servers = [server]
    if tls is not None and router.certs is not None:
        servers.append(await loop.create_server(
            lambda: ClientConnection(router, tls=True), tls.host, tls.port, backlog=2048,
            reuse_address=True, ssl=router.certs.default, ssl_handshake_timeout=header_timeout))
        router.warn(f"listening on {tls.host}:{tls.port} (TLS)")
    router.warn(f"listening on {host}:{port}")
    loop.call_later(TICK, router.tick)
    # Requests leave no cyclic garbage (upstream.py breaks its cycles), so the cyclic GC
    # only needs to run rarely, and never over the modules loaded at startup.
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    await stop.wait()
    for s in servers:
        s.close()
    router.draining = True
    deadline = loop.time() + DRAIN_SECONDS
    while loop.time() < deadline:
        for conn in list(router.connections):
            conn.close_if_idle()
        if not router.connections:
            break
        await asyncio.sleep(0.05)
    for conn in list(router.connections):
        if conn.transport is not None:
            conn.transport.abort()
    router.pool.close_all()
    router.logs.flush()
    return 0
