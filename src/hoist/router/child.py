"""The router as hoist runs it: a kept unit of the keeper on the public port (its own session and cgroup,
under a shim: it outlives the hoist control process, and the next hoist adopts it), its stdout lines
(`APP<TAB>message`, one per request) passed on."""
from __future__ import annotations

from collections.abc import Callable

from hoist.contain.kept import Kept, Place
from hoist.contracts.router_log import split_line
from hoist.launch import module_argv
from hoist.paths import Paths
from hoist.procs import accepts
from hoist.router.wake import WAKE_SECRET_ENV
from hoist.settings import Settings


class RouterChild:
    """Once it accepts connections (started, or adopted from a previous hoist), `on_start` gets its pid
    (the route table is published then: until it listens it may not have its SIGHUP handler, and it
    reads the current table when it starts)."""

    name = "the router"

    def __init__(self, settings: Settings, paths: Paths, wake_secret: str, on_start: Callable[[int], None],
                 on_request: Callable[[str, str], None], place: Place) -> None:
        self.paths = paths
        self.on_start = on_start
        self.on_request = on_request
        self.child = Kept(
            self.name, "router",
            module_argv("hoist.router", "--listen", f"{settings.host}:{settings.port}",
                        "--routes", str(paths.routes),
                        "--tls-listen", f"{settings.host}:{settings.tls_port}",
                        "--ca-dir", str(paths.tls), "--acme-dir", str(paths.tls / "acme-challenges")),
            place, ready=lambda: accepts(settings.host, settings.port), ready_timeout=15, grace=12,
            env={WAKE_SECRET_ENV: wake_secret}, on_line=self.log_line)

    @property
    def running(self) -> bool:
        return self.child.running

    async def adopt(self) -> bool:
        """Take over the router a previous hoist left serving (same ports, same secret); else stop it."""
        return await self.child.adopt()

    async def start(self) -> None:
        await self.child.start()
        assert self.child.proc is not None
        self.on_start(self.child.proc.pid)

    def log_line(self, line: str) -> None:
        """A request's log line ("APP<TAB>message") goes to `on_request`; other lines are dropped."""
        parts = split_line(line)
        if parts is not None:
            self.on_request(*parts)

    async def wait(self) -> str:
        return await self.child.wait()

    async def stop(self) -> None:
        await self.child.stop()

    def detach(self) -> None:
        self.child.detach()
