"""Starting and stopping one dyno: the supervisor's loop decides, this does.

Every method is called by the loop, the only writer of dynos. What takes
time runs as a task that touches no dyno and reports back as an event:
the readiness probe of a starting web dyno (`Ready`), the stop of a process
(SIGTERM, the grace period, SIGKILL: `Stopped`), the exit of a process (a
wake-up, like the arbiter's SIGCHLD)."""
from __future__ import annotations

import asyncio
from collections import deque
import signal
import uuid
from typing import Any, Callable, Coroutine

from hoist.dynos.commands import Event, Ready, Stopped
from hoist.dynos.firewall import PortGuard
from hoist.dynos.loglimit import LineLimiter
from hoist.dynos.once import exit_status
from hoist.dynos.readiness import is_ready
from hoist.dynos.runtime import Dyno, DynoState
from hoist.dynos.scheduler import DynoProcess, Scheduler
from hoist.dynos.spawn import spawn
from hoist.logs.line import PLATFORM, now_iso
from hoist.logs.store import LogStore
from hoist.procs import STABLE_AFTER, free_port

READY_POLL = 0.05  # seconds between readiness probes of a starting web dyno
READY_POLL_FIRST = (0.01, 2.0)  # ... but every 10 ms in its first 2 s: a quick boot is seen at once
ORPHAN_GRACE = 5.0  # seconds the rest of a dead dyno's group gets between SIGTERM and SIGKILL


def leftovers(proc: DynoProcess) -> int:
    """How many processes a dyno whose main process exited still has in its cgroup (0 when not contained)."""
    unit = getattr(proc, "unit", None)
    return len(unit.pids()) if unit is not None else 0


class Lifecycle:
    """`post` hands an event to the loop; `wake` only wakes it (a process exited)."""

    def __init__(self, scheduler: Scheduler, logs: LogStore, post: Callable[[Event], None], wake: Callable[[], None],
                 *, clock: Callable[[], float], stop_grace: float, log_rate: float, ports: PortGuard | None) -> None:
        self.scheduler = scheduler
        self.logs = logs
        self.post = post
        self.wake = wake
        self.clock = clock
        self.stop_grace = stop_grace
        self.log_rate = log_rate
        self.ports = ports  # guards web dyno ports (nftables) when apps are isolated
        self.stopping: dict[Dyno, asyncio.Task[None]] = {}  # stops in flight, by dyno
        self._probes: set[asyncio.Task[None]] = set()

    def set_state(self, d: Dyno, state: DynoState) -> None:
        if d.state is not state:
            self.logs.emit(d.app, PLATFORM, d.name, f"State changed from {d.state} to {state}")
            d.state = state
            d.state_since = now_iso()

    async def start(self, d: Dyno) -> None:
        """Spawn the dyno's process: STARTING for a web dyno (UP once it answers), UP for any other."""
        d.port = free_port() if d.type == "web" else None
        d.id = str(uuid.uuid4())
        if d.port and self.ports is not None:
            await self.ports.guard(d.app, d.port, d.id)  # before the dyno can listen on it
        self.logs.emit(d.app, PLATFORM, d.name, f"Starting process with command `{d.command}`")
        d.tail.clear()  # this process's lines: why it failed to boot, if it does
        limiter, lost = self.sink(lambda: d.app, d.name, d.tail)  # read per line: a rename changes d.app
        d.memory_mb = None
        d.oom_kills = 0
        proc = d.proc = await spawn(self.scheduler, d.app, d.release, d.name, d.command, limiter, port=d.port,
                                    dyno_id=d.id, on_dropped=lost, formation=True)
        self._watch_exit(proc)
        d.started_mono = self.clock()
        if d.type == "web":
            self.set_state(d, DynoState.STARTING)
            self._track(self._probe(d, proc))
        else:
            self.set_state(d, DynoState.UP)

    def sink(self, app: str | Callable[[], str], name: str, tail: deque[str] | None = None
             ) -> tuple[Callable[[str], None], Callable[[int], None]]:
        """Where a dyno's output goes: its lines to the log at the log rate (L10 beyond), and a count of lines
        dropped before they got here (by its shim). `app` may be a callable: the app's name when the line
        comes (a rename changes it under a running dyno). `tail` keeps the last lines (why a boot failed)."""
        emit = self.logs.emit
        where: Callable[[], str] = app if callable(app) else (lambda: app)

        def app_line(line: str) -> None:
            if tail is not None:
                tail.append(line)
            emit(where(), "app", name, line)
        limiter = LineLimiter(app_line, lambda msg: emit(where(), PLATFORM, name, msg), rate=self.log_rate,
                              burst=2 * self.log_rate)
        return limiter, limiter.lost

    def _watch_exit(self, proc: DynoProcess) -> None:
        # Like the arbiter's SIGCHLD: an exit wakes the loop now, not at the next tick, so the
        # routes drop a dead dyno within milliseconds.
        asyncio.ensure_future(proc.wait()).add_done_callback(lambda _t: self.wake())

    def adopted(self, d: Dyno, now: float) -> None:
        """A dyno a previous hoist started, taken over as it runs (it serves on: UP at once)."""
        assert d.proc is not None
        self.logs.emit(d.app, PLATFORM, d.name, "Process adopted by the restarted hoist; it kept running")
        d.state = DynoState.UP
        d.started_mono = now - STABLE_AFTER  # it has been running: a crash now is not a crash loop
        self._watch_exit(d.proc)

    async def _probe(self, d: Dyno, proc: DynoProcess) -> None:
        """Until the web dyno answers HTTP (or its process ends): then tell the loop it is ready."""
        fast, fast_for = READY_POLL_FIRST
        started = self.clock()
        while d.proc is proc and d.state is DynoState.STARTING and proc.returncode is None:
            where = d.endpoint  # 127.0.0.1:PORT, or a swarm task's node address and port
            if where and await is_ready(where[1], d.release.health_path, host=where[0]):
                self.post(Ready(d, proc))
                return
            await asyncio.sleep(fast if self.clock() - started < fast_for else READY_POLL)

    def crashed(self, d: Dyno, proc: DynoProcess, rc: int, crashes: int, next_start: float) -> None:
        """The dyno's process exited on its own: CRASHED until `next_start`; what it forked goes too."""
        self.logs.emit(d.app, PLATFORM, d.name, f"Process exited with status {exit_status(rc)}")
        self.note_leftovers(d, proc)
        self.set_state(d, DynoState.CRASHED)
        d.crashes = crashes
        d.next_start = next_start
        self.end_group(proc, d.port, d.id)
        d.proc = None
        d.memory_mb = None

    def note_leftovers(self, d: Dyno, proc: DynoProcess) -> None:
        """The dyno's main process exited: say so if it left processes behind (they are stopped with it)."""
        left = leftovers(proc)
        if left:
            self.logs.emit(d.app, PLATFORM, d.name, f"It left {left} process(es) running in the dyno: they are stopped "
                                                   "too. Did the command daemonize? A dyno's command must stay in the "
                                                   "foreground (gunicorn without --daemon)")

    def end_group(self, proc: DynoProcess, port: int | None = None, key: str = "") -> None:
        """The leader died: SIGTERM the rest of its group (requests in flight finish), SIGKILL soon after."""
        proc.signal(signal.SIGTERM)

        def kill() -> None:
            proc.signal(signal.SIGKILL)
            self._release_port(port, key)  # only now: a forked worker may listen on it until the kill
        asyncio.get_running_loop().call_later(min(self.stop_grace, ORPHAN_GRACE), kill)

    def stop(self, d: Dyno, state: DynoState = DynoState.DOWN, *, grace: float | None = None,
             delay: float = 0.0) -> asyncio.Task[None] | None:
        """Decide that the dyno's process stops: `state` (DOWN or IDLE) at once, the process by a task.

        Returns the task stopping it; None when it has no process (crashed, idle: nothing to stop)."""
        proc = d.proc
        if proc is None:
            return None
        if d.state.stopped:
            return self.stopping.get(d)  # its stop is under way already
        self.set_state(d, state)
        grace = self.stop_grace if grace is None else grace
        task = asyncio.ensure_future(self._stop(d, proc, d.port, d.id, grace, delay))
        self.stopping[d] = task
        task.add_done_callback(lambda _t: self.stopping.pop(d, None) if self.stopping.get(d) is task else None)
        return task

    async def _stop(self, d: Dyno, proc: DynoProcess, port: int | None, key: str, grace: float, delay: float) -> None:
        """SIGTERM the dyno's process group, wait the grace period, then SIGKILL; tell the loop."""
        if delay:
            await asyncio.sleep(delay)  # e.g. the router reloads before an old release's dynos stop listening
        if proc.returncode is None:
            self.logs.emit(d.app, PLATFORM, d.name, "Stopping all processes with SIGTERM")
            proc.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
            except asyncio.TimeoutError:
                self.logs.emit(d.app, PLATFORM, d.name,
                               f"Error R12 (Exit timeout) -> At least one process failed to exit within "
                               f"{grace:g} seconds of SIGTERM")
                self.logs.emit(d.app, PLATFORM, d.name, "Stopping remaining processes with SIGKILL")
        # Kill what is left of the dyno: daemons it started outlive its main process.
        proc.signal(signal.SIGKILL)
        rc = await proc.wait()
        await proc.closed()
        self._release_port(port, key)
        self.logs.emit(d.app, PLATFORM, d.name, f"Process exited with status {exit_status(rc)}")
        self.post(Stopped(d, proc))

    def _release_port(self, port: int | None, key: str) -> None:
        if port and self.ports is not None:
            self.ports.release(port, key)

    def _track(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)

    def cancel_probes(self) -> None:
        for task in list(self._probes):
            task.cancel()
