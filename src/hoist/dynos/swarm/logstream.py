"""One service's output, read through the manager: `docker service logs --follow --timestamps --no-trunc`
(every task on every node, replaced tasks included), opened again `--since` the last line when it ends,
each line handed to the dyno of its slot (`web.3`), marker lines turned into that slot's memory samples.

hoist reaches only the manager (DOCKER_HOST), so this is the one way in; the parsing is logs.py."""
from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Callable

from hoist.dynos.swarm.cluster import Cluster
from hoist.dynos.swarm.logs import Meters, Seen, parse, since_arg, split_meter

REOPEN_AFTER = 1.0  # seconds before a stream that ended is opened again
SETPRIV = "/usr/bin/setpriv"  # util-linux: the CLI gets SIGKILL when hoist dies (a stream of a removed service never ends)
GONE = "no such task or service"  # what the CLI says for a service id that is no more
LINE_LIMIT = 1 << 20  # longest line read (the engine splits a container's lines at 16 KiB anyway)


class ServiceLogs:
    """The output of service `name` (read by its id: a service made again under the same name is another
    stream). `attach(slot, on_line)` routes a slot's lines to its current dyno; a dyno that stopped keeps
    getting its task's last lines (until another dyno takes the slot). `since` (ns) starts the first stream
    there (a service that was already running, adopted); else from the service's beginning."""

    def __init__(self, cluster: Cluster, name: str, since: int | None = None) -> None:
        self.cluster = cluster
        self.name = name
        self.id = ""
        self.sinks: dict[int, Callable[[str], None]] = {}
        self.seen = Seen()
        self.meters: dict[int, Meters] = {}
        self.since = since
        self.opened = 0  # streams opened so far (1 + reopenings)
        self.errors: list[str] = []  # the CLI's own complaints, last few
        self._task: asyncio.Task[None] | None = None
        self._proc: asyncio.subprocess.Process | None = None

    def start(self, service_id: str) -> None:
        """Read the service (by its id, from `service create`) from now on."""
        if self._task is None:
            self.id = service_id
            self._task = asyncio.ensure_future(self._run())

    def meter(self, slot: int) -> Meters:
        return self.meters.setdefault(slot, Meters())

    def attach(self, slot: int, on_line: Callable[[str], None]) -> Meters:
        """A new dyno in `slot`: its lines from now on, and its memory (OOM kills counted from now)."""
        self.sinks[slot] = on_line
        meters = self.meter(slot)
        meters.restart()
        return meters

    async def stop(self, after: float = 0.0) -> None:
        """Stop reading, `after` seconds from now (a removed service's tasks still write while they stop,
        and the CLI's stream does not end by itself when the service is gone)."""
        if after:
            await asyncio.sleep(after)
        task, self._task = self._task, None
        if task is None:
            return
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            start = self.seen.resume()
            since = since_arg(start) if start is not None else (since_arg(self.since) if self.since else None)
            args = ["service", "logs", "--follow", "--timestamps", "--no-trunc"]
            args += ["--since", since] if since else []
            try:
                proc = self._proc = await asyncio.create_subprocess_exec(
                    *dies_with_hoist(), self.cluster.docker, *args, self.id, env=self.cluster.env, stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=LINE_LIMIT)
            except OSError as exc:
                self._complain(f"{self.cluster.docker} could not start: {exc}")
            else:
                self.opened += 1
                try:
                    assert proc.stdout is not None and proc.stderr is not None
                    await asyncio.gather(self._read(proc.stdout), self._read(proc.stderr))
                    if await proc.wait() and any(GONE in e for e in self.errors[-2:]):
                        return  # the service was removed: nothing more will come
                finally:
                    if proc.returncode is None:
                        with contextlib.suppress(ProcessLookupError):
                            proc.kill()
                        await proc.wait()
            await asyncio.sleep(REOPEN_AFTER)

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # longer than LINE_LIMIT: skip to its end
                with contextlib.suppress(asyncio.LimitOverrunError, ValueError):
                    await stream.readuntil(b"\n")
                continue
            if not raw:
                return
            self.feed(raw.decode(errors="replace"))

    def feed(self, raw: str) -> None:
        """One line of the CLI's output: to its slot's dyno (a marker to the slot's meter), once."""
        entry = parse(raw)
        if entry is None:
            if raw.strip():
                self._complain(raw.strip())
            return
        if entry.service != self.name or not self.seen.fresh(entry):
            return
        text, sample = split_meter(entry.text)
        if sample is not None:
            self.meter(entry.slot).add(entry.task, *sample)
        sink = self.sinks.get(entry.slot)
        if text is not None and sink is not None:
            sink(text)

    def _complain(self, text: str) -> None:
        self.errors = [*self.errors[-4:], text[-500:]]


def dies_with_hoist() -> list[str]:
    """`setpriv --pdeathsig KILL --` where util-linux has it: hoist killed outright leaves no stream behind."""
    return [SETPRIV, "--pdeathsig", "KILL", "--"] if os.access(SETPRIV, os.X_OK) else []
