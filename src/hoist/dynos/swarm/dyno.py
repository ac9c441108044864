"""One formation dyno on the swarm: its own service (one replica), on whatever node swarm put its task.

The router reaches a web dyno's task directly, at its node's address and published port (`endpoint`):
nothing of a request passes through the hoist process, so the apps answer while hoist restarts. The
endpoint is only ever a task that answered HTTP: when swarm replaces the task (a `ps:restart`, a drained
node, a crash), the dyno keeps the old endpoint while the old task still runs and switches once the new
one answers; with no answering task it has no endpoint and is not routed."""
from __future__ import annotations

import asyncio
import itertools
from typing import Callable

from hoist.dynos.readiness import http_status
from hoist.dynos.swarm.cluster import Task

_pids = itertools.count(1)


class SwarmDyno:
    """A formation dyno: the service `service` (its id `service_id` once created). `node` is where its task
    runs now; `endpoint` is (node address, published port) of a task that answered, for the router."""

    def __init__(self, app: str, name: str, release: str, service: str, *, web: bool,
                 on_line: Callable[[str], None], id: str = "") -> None:
        self.app = app
        self.name = name
        self.release = release
        self.service = service
        self.service_id = ""
        self.web = web
        self.id = id
        self.on_line = on_line
        self.node: str | None = None
        self.task: Task | None = None  # the task it routes to (a web dyno) or runs as
        self.tasks: list[Task] = []  # the service's tasks meant to run now, oldest first
        self.answered: set[str] = set()  # ids of tasks that answered HTTP once
        self.finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.wanted = True
        self._pid = -next(_pids)  # no local process: a key for the memory sampler, never a real pid
        self.stop: Callable[[SwarmDyno, int], None] = lambda d, s: None
        self.restart_task: Callable[[SwarmDyno], None] = lambda d: None
        self.meter: Callable[[], tuple[int, int] | None] = lambda: None  # its memory, from its log stream

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self.finished.result() if self.finished.done() else None

    @property
    def endpoint(self) -> tuple[str, int] | None:
        """Where the router sends this dyno's requests: a task of it that answered, or None."""
        t = self.task
        return (t.addr, t.port) if self.web and t is not None and t.port else None

    async def wait(self) -> int:
        return await asyncio.shield(self.finished)

    async def closed(self) -> None:
        await self.wait()

    def signal(self, signum: int) -> None:
        if self.wanted:
            self.wanted = False
            self.stop(self, signum)

    def restart(self) -> None:
        """ps:restart: a new task replaces the running one (start-first); the dyno stays routed meanwhile."""
        if self.wanted:
            self.restart_task(self)

    def usage(self) -> tuple[int, int] | None:
        return self.meter()  # what the container's meter last wrote (logstream.py), None before that

    def end(self, rc: int) -> None:
        self.wanted = False
        if not self.finished.done():
            self.finished.set_result(rc)

    async def follow(self, tasks: list[Task]) -> None:
        """The service's tasks now (oldest first): route to the newest running one that answered HTTP, probing
        the ones not probed yet; keep the current task while it runs and no newer one answered."""
        self.tasks = tasks
        running = [t for t in tasks if t.state == "running"]
        if not self.web:
            self.task = running[-1] if running else None
        else:  # swarm says "starting" until its health check passes: what answers HTTP may be routed already
            for t in (t for t in tasks if t.state in ("starting", "running")):
                if t.id not in self.answered and t.port and await http_status(t.port, host=t.addr, timeout=2) is not None:
                    self.answered.add(t.id)
            ok = [t for t in tasks if t.id in self.answered and t.state in ("starting", "running")]
            self.task = ok[-1] if ok else None
            self.answered &= {t.id for t in tasks}
        shown = self.task or (tasks[-1] if tasks else None)
        self.node = shown.node if shown else None
