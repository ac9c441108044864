"""What every client connection of one router process shares: the settings, the
current route table, the upstream pool, the log writer and the timeout sets.

The connections and their collaborators import this module; it imports none of
them (they are known here only by the Protocols the sweep needs)."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Protocol

from hoist.contracts import routes
from hoist.contracts.routes import RouteTable
from hoist.router.logwriter import LogWriter
from hoist.router.tls import Certificates
from hoist.router.upstream import Pool
from hoist.router.wake import Waker


class Waiting(Protocol):
    """A connect or a response wait with a deadline (Router.waiting)."""

    timer: float  # loop time; 0.0 when not armed

    def on_timer(self) -> None: ...


class Connection(Protocol):
    """A client connection as the sweep and the drain see it (Router.connections)."""

    deadline: float  # header, body or keep-alive deadline (loop time); 0.0 for none

    def on_deadline(self) -> None: ...
    def close_if_idle(self) -> None: ...
    def abort(self) -> None: ...


def warn(message: str) -> None:
    """A line for the operator on stderr (the server prefixes and keeps it)."""
    print(f"router: {message}", file=sys.stderr, flush=True)


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
        self.connections: set[Connection] = set()
        self.waiting: set[Waiting] = set()  # with a connect/response deadline armed
        self.draining = False
        self.warn = warn
        self.waker = Waker(self.current_table, warn)
        self._rr: dict[str, int] = {}

    def current_table(self) -> RouteTable:
        return self.table

    def reload(self) -> None:
        """Load the routes file; keep the last good table if it cannot be read."""
        table = routes.load(self.routes, self.table, self.warn)
        if table is not self.table:
            self.table = table
            if self.certs is not None:
                self.certs.load(table.certs)
            self.warn(f"loaded {len(table.apps)} apps from {self.routes}")

    def next_index(self, app: str, n: int) -> int:
        """Round-robin position for an app's next request."""
        i = self._rr.get(app, -1) + 1
        if i >= n:
            i = 0
        self._rr[app] = i
        return i
