"""One formation dyno on the swarm: a slot of its type's service, on whatever node swarm put its task.

A web dyno keeps its local port: a relay on 127.0.0.1:PORT forwards each connection to the task's node
address and published port, as the task list says now (swarm replaces a task that dies; the relay
follows). So readiness probes, the router and its semantics are the local ones, unchanged."""
from __future__ import annotations

import asyncio
import itertools
from typing import Callable

from hoist.dynos.scheduler import DynoSpec
from hoist.dynos.swarm.cluster import Task

_pids = itertools.count(1)


class SwarmDyno:
    """One formation dyno: a slot of its type's service. `node` is where its task runs now."""

    def __init__(self, spec: DynoSpec, slot: int, on_line: Callable[[str], None]) -> None:
        self.spec = spec
        self.slot = slot
        self.on_line = on_line
        self.port = int(spec.env["PORT"]) if spec.env.get("PORT", "").isdigit() else None
        self.node: str | None = None
        self.target: tuple[str, int] | None = None
        self.server: asyncio.base_events.Server | None = None
        self.finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.wanted = True
        self._pid = -next(_pids)  # no local process: a key for the memory sampler, never a real pid
        self.stop: Callable[[SwarmDyno, int], None] = lambda d, s: None
        self.meter: Callable[[], tuple[int, int] | None] = lambda: None  # the slot's memory, from its log stream

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
        return self.meter()  # what the container's meter last wrote (logstream.py), None before that

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

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = self.target
        if target is None:  # no running task in this slot now: the router sees the connection close
            writer.close()
            return
        try:
            up_r, up_w = await asyncio.wait_for(asyncio.open_connection(*target), 5)
        except (OSError, asyncio.TimeoutError):
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
