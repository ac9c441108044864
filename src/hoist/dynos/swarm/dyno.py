"""One formation dyno on the swarm: a slot of its type's service, on whatever node swarm put its task.

A web dyno keeps its local port: a relay on 127.0.0.1:PORT forwards each connection to the task's node
address and published port, as the task list says now (swarm replaces a task that dies; the relay
follows). So readiness probes, the router and its semantics are the local ones, unchanged.

When the slot's task is gone (its node died, swarm is starting a replacement) the relay does what the
router does with a backend it cannot reach: it connects to the next one, here a running task of the same
service (`peers`). A dyno's own task must have answered once before that (a new dyno's readiness probe is
never answered by another task). A target that refused or timed out is tried last for SUSPECT seconds,
so a node that died costs one fast failure, not one per request, until the task list drops it."""
from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import Callable

from hoist.dynos.scheduler import DynoSpec
from hoist.dynos.swarm.cluster import Task

_pids = itertools.count(1)
CONNECT_TIMEOUT = 2.0  # a node that lost power answers nothing: give up soon and try the next task
SUSPECT = 10.0  # seconds a target that failed to connect is tried last

Target = tuple[str, int]


class SwarmDyno:
    """One formation dyno: a slot of its type's service. `node` is where its task runs now."""

    def __init__(self, spec: DynoSpec, slot: int, on_line: Callable[[str], None]) -> None:
        self.spec = spec
        self.slot = slot
        self.on_line = on_line
        self.port = int(spec.env["PORT"]) if spec.env.get("PORT", "").isdigit() else None
        self.node: str | None = None
        self.target: Target | None = None
        self.served = False  # its own task has answered: from now on a peer may stand in for it
        self.peers: Callable[[], list[Target]] = lambda: []  # running targets of the service's other dynos
        self.suspects: dict[Target, float] = {}  # target -> when it last failed (shared by the service)
        self.server: asyncio.base_events.Server | None = None
        self.finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.wanted = True
        self._pid = -next(_pids)  # no local process: a key for the memory sampler, never a real pid
        self.stop: Callable[[SwarmDyno, int], None] = lambda d, s: None

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self.finished.result() if self.finished.done() else None

    async def wait(self) -> int:
        return await asyncio.shield(self.finished)

    async def closed(self) -> None:
        await self.wait()

    def signal(self, signum: int) -> None:
        if self.wanted:
            self.wanted = False
            self.stop(self, signum)

    def usage(self) -> tuple[int, int] | None:
        return None  # container stats live on each node's engine: not read yet (no R14/R15 on swarm)

    def end(self, rc: int) -> None:
        self.wanted = False
        if self.server is not None:
            self.server.close()
        if not self.finished.done():
            self.finished.set_result(rc)

    def follow(self, task: Task | None) -> None:
        self.node = task.node if task else None
        self.target = (task.addr, task.port) if task and task.port and task.state == "running" else None

    async def listen(self) -> None:
        if self.port is not None:
            self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    def _candidates(self) -> list[Target]:
        """Where to connect, in order: its own task, then (once it has served) the other tasks, shuffled;
        targets that failed lately go last."""
        own = [self.target] if self.target else []
        others = [t for t in self.peers() if t not in own] if self.served else []
        random.shuffle(others)
        now = time.monotonic()
        fresh = [t for t in own + others if now - self.suspects.get(t, -SUSPECT) >= SUSPECT]
        return fresh + [t for t in own + others if t not in fresh]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for target in self._candidates():
            try:
                up_r, up_w = await asyncio.wait_for(asyncio.open_connection(*target), CONNECT_TIMEOUT)
            except (OSError, asyncio.TimeoutError):
                self.suspects[target] = time.monotonic()
                continue
            self.suspects.pop(target, None)
            if target == self.target:
                self.served = True
            break
        else:  # nothing to reach: the router sees the connection close and retries another dyno
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
                if dst.can_write_eof():
                    dst.write_eof()
            except (OSError, RuntimeError):
                pass
        try:
            await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        finally:
            up_w.close()
            writer.close()
