"""The router process: listening socket, table reloads, timeouts sweep, graceful stop."""
from __future__ import annotations

import asyncio
import gc
import signal
from dataclasses import dataclass
from pathlib import Path

from hoist.router.proxy import ClientConnection
from hoist.router.state import Router
from hoist.router.tls import Certificates

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


def start_sweep(router: Router) -> None:
    """Time out connects and responses (H19, H12) every TICK seconds; once a second,
    close connections past their header, body or keep-alive deadline."""
    loop = router.loop
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        now = loop.time()
        for waiter in [w for w in router.waiting if now >= w.timer]:
            waiter.on_timer()
        ticks += 1
        if ticks * TICK >= 1.0:
            ticks = 0
            for conn in [c for c in router.connections if c.deadline and now > c.deadline]:
                conn.deadline = 0.0
                conn.on_deadline()
            router.pool.sweep(now)
        loop.call_later(TICK, tick)
    loop.call_later(TICK, tick)


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
    start_sweep(router)
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
        conn.abort()
    router.pool.close_all()
    router.logs.flush()
    return 0
