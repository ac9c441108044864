"""The router as hoist runs it: a child process of the keeper on the public port, its pid
file (so the next hoist can stop a router a `kill -9` left behind), and its stdout lines
(`APP<TAB>message`, one per request) passed on."""
from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path

from hoist.contracts.router_log import split_line
from hoist.keeper import Spawned
from hoist.launch import module_argv
from hoist.paths import Paths
from hoist.procs import accepts, wait_gone
from hoist.router.wake import WAKE_SECRET_ENV
from hoist.settings import Settings


def _pidfile(paths: Paths) -> Path:
    return paths.run_dir / "router.pid"


class RouterChild:
    """Once it accepts connections, `on_start` gets its pid (the route table is published then: until
    it listens it may not have its SIGHUP handler, and it reads the current table when it starts)."""

    name = "the router"

    def __init__(self, settings: Settings, paths: Paths, wake_secret: str, on_start: Callable[[int], None],
                 on_request: Callable[[str, str], None]) -> None:
        self.paths = paths
        self.on_start = on_start
        self.on_request = on_request
        self.child = Spawned(
            self.name, module_argv("hoist.router", "--listen", f"{settings.host}:{settings.port}",
                                   "--routes", str(paths.routes),
                                   "--tls-listen", f"{settings.host}:{settings.tls_port}",
                                   "--ca-dir", str(paths.tls), "--acme-dir", str(paths.tls / "acme-challenges")),
            ready=lambda: accepts(settings.host, settings.port), ready_timeout=15, grace=12,
            env={WAKE_SECRET_ENV: wake_secret}, on_line=self.log_line)

    @property
    def running(self) -> bool:
        return self.child.running

    async def start(self) -> None:
        await self.child.spawn()
        assert self.child.proc is not None
        _pidfile(self.paths).write_text(str(self.child.proc.pid))
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
        _pidfile(self.paths).unlink(missing_ok=True)


def kill_stale_router(paths: Paths) -> bool:
    """Kill the router a previous hoist left running (it was killed with -9); True if there was one."""
    pidfile = _pidfile(paths)
    try:
        pid = int(pidfile.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        pidfile.unlink(missing_ok=True)
        return False
    found = b"hoist.router" in cmdline
    if found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_gone(pid)  # it holds the public port until it is really gone
    pidfile.unlink(missing_ok=True)
    return found
