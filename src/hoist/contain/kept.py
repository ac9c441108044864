"""A long-lived child of hoist's keeper (the router, PostgreSQL's TLS front) that outlives the hoist
control process: it runs under a shim in its own session and cgroup (`kept/KEY`), recorded in
`RUN_DIR/KEY.json`. A restarted hoist adopts the one a previous hoist left running when it was started
with the same command and environment; anything else there (another command, a half-started one) is
stopped first, so two never hold the same port."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import marshal
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hoist.contain.cgroups import CgroupError, Tree
from hoist.contain.shimmed import Launch, ShimError, ShimProcess, attach, start
from hoist.procs import killpg, not_started, until_ready


@dataclass(frozen=True)
class Place:
    """Where kept units live: their records and shim sockets, and the cgroup tree (None: not contained)."""

    run_dir: Path
    tree: Tree | None = None


class KeptError(Exception):
    """A kept child did not start; the message says why."""


def fingerprint(argv: Sequence[str], env: dict[str, str]) -> str:
    """What a kept unit was started with, hashed (`env`, what it gets besides hoist's own environment, may
    hold a secret). Pure."""
    return hashlib.sha256(marshal.dumps((list(argv), sorted(env.items())))).hexdigest()


class Kept:
    """A keeper Child (see keeper.py): `start` adopts a running one or starts one and waits until `ready`;
    `stop` is SIGTERM to its whole unit, `grace` seconds, then SIGKILL; `detach` leaves it running."""

    def __init__(self, name: str, key: str, argv: Sequence[str], place: Place, *,
                 ready: Callable[[], Awaitable[bool]] | None = None, ready_timeout: float = 10.0,
                 grace: float = 10.0, env: dict[str, str] | None = None,
                 on_line: Callable[[str], None] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.own_env = dict(env or {})  # what it is given besides hoist's environment (the fingerprint's part)
        self.env = {**os.environ, **self.own_env}
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.grace = grace
        self.on_line = on_line or (lambda line: print(line, flush=True))
        self.record = place.run_dir / f"{key}.json"
        self.listen = place.run_dir / f"{key}.sock"
        self.tree = place.tree
        self.unit = place.tree.unit("kept", key) if place.tree is not None else None
        self.proc: ShimProcess | None = None
        self.adopted = False  # the running one was started by a previous hoist
        self.stopped_stale = False  # a previous hoist's one was there, not adopted, and stopped

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def adopt(self) -> bool:
        """Take over the one a previous hoist left running, if it runs what this one would; else stop it."""
        try:
            rec = json.loads(self.record.read_text())
        except (OSError, ValueError):
            rec = None
        if rec is not None and rec.get("fingerprint") == fingerprint(self.argv, self.own_env):
            proc = await attach(self.listen, self.unit, on_line=self.on_line, cleanup=self._forget)
            if proc is not None and proc.returncode is None and (self.ready is None or await self.ready()):
                self.proc, self.adopted = proc, True
                return True
            if proc is not None:
                self.proc = proc
                await self.stop()
        await self._stop_stale(rec)
        return False

    async def _stop_stale(self, rec: dict[str, object] | None) -> None:
        """A previous hoist's unit that is not adopted: its shim is told to go, its processes killed."""
        stale = await attach(self.listen, self.unit, on_line=lambda line: None, linger=0.0)
        if stale is not None:
            self.stopped_stale = True
            self.proc = stale
            await self.stop()
        if self.unit is not None and self.unit.exists():
            self.stopped_stale = self.stopped_stale or self.unit.populated()
            with contextlib.suppress(CgroupError):
                self.unit.kill()
                await asyncio.to_thread(self.unit.wait_empty, 5.0)
                self.unit.remove()
        elif rec is not None and isinstance(pid := rec.get("pid"), int):
            self.stopped_stale = True
            killpg(pid, signal.SIGKILL)
        self._forget()

    async def spawn(self) -> bool:
        """Start it; True once it is ready, False if it exited first or `ready_timeout` passed."""
        self.record.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.unit is not None:
            try:
                self.unit.create()
            except CgroupError as exc:
                raise KeptError(f"{self.name}: {exc}") from None
        try:
            self.proc = await start(Launch(self.argv, self.env), listen=self.listen, unit=self.unit,
                                    shim_unit=self.tree.unit("shims") if self.tree is not None else None,
                                    on_line=self.on_line, cleanup=self._forget)
        except ShimError as exc:
            raise KeptError(f"{self.name} did not start: {exc}") from None
        self.adopted = False
        tmp = self.record.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fingerprint": fingerprint(self.argv, self.own_env), "pid": self.proc.pid}))
        os.replace(tmp, self.record)
        return await until_ready(self.proc, self.ready, self.ready_timeout)

    async def start(self) -> None:
        if self.running and self.adopted:
            return  # adopted before the keeper took it on
        if await self.spawn():
            return
        assert self.proc is not None
        rc = self.proc.returncode
        if rc is None:
            await self.stop()
        raise KeptError(not_started(self.name, rc, self.ready_timeout))

    async def wait(self) -> str:
        assert self.proc is not None
        rc = await self.proc.wait()
        return f"exited with status {rc}"

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.returncode is None:
            proc.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), self.grace)
            except asyncio.TimeoutError:
                pass
            proc.signal(signal.SIGKILL)
        proc.linger = 0.0
        await proc.wait()
        await proc.finished

    def detach(self) -> None:
        """hoist hands over to its next run: this keeps serving, and the next hoist adopts it."""
        if self.proc is not None:
            self.proc.detach()
            self.proc = None

    def _forget(self) -> None:
        self.record.unlink(missing_ok=True)
