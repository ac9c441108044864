"""One keeper for hoist's long-lived children: the router, the PostgreSQL cluster and its TLS front, the
Redis servers, and every add-on server to come. Each is a `Child` (start, wait until gone, stop); the keeper
starts it, watches it, restarts it when it exits with supervisord's growing delays (reset after a stable
run), and stops it on request.

Like gunicorn's arbiter, one loop per child is the only code that restarts it: callers never start a kept
child again themselves, they ask (`start` on a kept child that is down wakes its loop and waits for that
attempt). Two shapes of child come ready-made: `Spawned` (a foreground process hoist owns: stopped with
SIGTERM, a grace period, then SIGKILL) and `Detached` (a server that daemonises itself, like `pg_ctl start`
or redis-server, watched by polling)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from hoist.procs import RESTART_DELAYS, STABLE_AFTER, not_started, restart_delay, terminate, until_ready

POLL_S = 2.0  # how often a Detached child is checked


class Child(Protocol):
    """A long-lived process the keeper looks after."""

    @property
    def name(self) -> str:
        """How messages name it: "PostgreSQL", "the router"."""
        ...

    @property
    def running(self) -> bool:
        """True while it runs (a cheap check: the keeper asks when a caller needs it up)."""
        ...

    async def start(self) -> None:
        """Start it and return once it serves; raise, saying why, if it cannot."""

    async def wait(self) -> str:
        """Return once it has gone, saying how ("exited with status 1"); meanwhile pass on its output."""
        ...

    async def stop(self) -> None:
        """Stop it (terminate, a grace period, then kill); nothing to do if it is not running."""


class _Kept:
    """What the keeper knows of one child; changed only by its watch loop (and `start` before the loop runs)."""

    def __init__(self, child: Child) -> None:
        self.child = child
        self.task: asyncio.Task[None] | None = None
        self.starting: asyncio.Future[None] | None = None  # a restart in progress (a stop lets it finish)
        self.up = False
        self.crashes = 0
        self.started_at = 0.0
        self.nudge = asyncio.Event()  # a caller needs it up: look now, skip the rest of a backoff delay
        self.attempt: asyncio.Future[None] = asyncio.get_running_loop().create_future()  # the next start


def _when(delay: float) -> str:
    return f"in {delay:g} s" if delay else "now"


class Keeper:
    """Starts, watches, restarts (with backoff) and stops long-lived children."""

    def __init__(self, say: Callable[[str], None] = print, *, delays: tuple[float, ...] = RESTART_DELAYS,
                 stable_after: float = STABLE_AFTER, clock: Callable[[], float] = time.monotonic) -> None:
        self.say = say
        self.delays = delays
        self.stable_after = stable_after
        self.clock = clock
        self._kept: list[_Kept] = []
        self._closing = False  # stopping or handing over: no child is started again from now on

    def _find(self, child: Child) -> _Kept | None:
        return next((k for k in self._kept if k.child is child), None)

    def kept(self, child: Child) -> bool:
        """True from a successful `start` (or any `start` with retry) until `stop`."""
        return self._find(child) is not None

    async def start(self, child: Child, *, retry: bool = False) -> None:
        """Have `child` running, and keep it: from now on its watch loop restarts it whenever it exits.

        If its first start fails the error is raised and, unless `retry`, the child is not kept (the next
        `start` tries again). A kept child that is down is started by its loop now; this waits for that."""
        k = self._find(child)
        if k is None:
            k = _Kept(child)
            try:
                await child.start()
            except Exception:
                if not retry:
                    raise
                k.crashes = 1
                self._kept.append(k)
                k.task = asyncio.create_task(self._watch(k, down="did not start"))
                raise
            k.up, k.started_at = True, self.clock()
            self._kept.append(k)
            k.task = asyncio.create_task(self._watch(k))
            return
        if k.up and child.running:
            return
        attempt = k.attempt
        k.nudge.set()
        await asyncio.shield(attempt)

    async def stop(self, child: Child) -> None:
        """Stop watching `child` (a restart in progress finishes first), then stop it: terminate, grace, kill."""
        k = self._find(child)
        if k is not None:
            self._kept.remove(k)
            if k.task is not None:
                k.task.cancel()
                await asyncio.gather(k.task, return_exceptions=True)
            if k.starting is not None:
                await asyncio.gather(k.starting, return_exceptions=True)
            self._settle(k, RuntimeError(f"{child.name} was stopped"))
        await child.stop()

    async def close(self) -> None:
        """hoist is stopping: from now on no child is started again, whoever exits (stop them next)."""
        self._closing = True

    async def stop_all(self) -> None:
        """Stop every kept child, the last kept first; none is restarted once this has begun (a router that
        exits first when an init system signals the whole process group stays stopped)."""
        self._closing = True
        for k in reversed(list(self._kept)):
            await self.stop(k.child)

    async def detach_all(self) -> None:
        """hoist hands over to its next run: stop watching every child and leave it running (a child with a
        `detach` method lets go of it; daemons run on by themselves); the next hoist adopts them."""
        self._closing = True
        for k in list(self._kept):
            if k.task is not None:
                k.task.cancel()
                await asyncio.gather(k.task, return_exceptions=True)
            if k.starting is not None:
                await asyncio.gather(k.starting, return_exceptions=True)
            self._settle(k, RuntimeError(f"{k.child.name} was handed over"))
            detach = getattr(k.child, "detach", None)
            if callable(detach):
                detach()
        self._kept.clear()

    # ----- the watch loop: the only code that restarts a child -----

    async def _watch(self, k: _Kept, down: str = "") -> None:
        child = k.child
        while True:
            if down:
                delay = restart_delay(k.crashes, self.delays)
                self.say(f"{child.name} {down}; trying again {_when(delay)}")
            else:
                down = await self._gone(k)
                k.up = False
                if self._closing:
                    return
                ran = self.clock() - k.started_at
                k.crashes = 1 if ran >= self.stable_after else k.crashes + 1
                delay = restart_delay(k.crashes, self.delays)
                self.say(f"{child.name} {down}; restarting it" + (f" {_when(delay)}" if delay else ""))
            await self._pause(k, delay)
            if self._closing:
                return
            k.starting = asyncio.ensure_future(child.start())
            try:
                await asyncio.shield(k.starting)
            except Exception as exc:  # noqa: BLE001 - whatever it was, the child is down and is tried again
                k.crashes += 1
                self._settle(k, exc)
                down = f"did not restart: {exc}"
                continue
            finally:
                if k.starting.done():
                    k.starting = None
            k.up, k.started_at, down = True, self.clock(), ""
            self.say(f"{child.name} restarted")
            self._settle(k, None)

    async def _gone(self, k: _Kept) -> str:
        """Wait until the child has gone (or a caller found it not running); say how it went."""
        waiting = asyncio.ensure_future(k.child.wait())
        try:
            while True:
                nudged = asyncio.ensure_future(k.nudge.wait())
                done, _ = await asyncio.wait({waiting, nudged}, return_when=asyncio.FIRST_COMPLETED)
                nudged.cancel()
                if waiting in done:
                    try:
                        return waiting.result()
                    except Exception as exc:  # noqa: BLE001 - a child we cannot watch is stopped and started afresh
                        await k.child.stop()
                        return f"was stopped: watching it failed ({exc!r})"
                if not k.child.running:  # the nudge stays set: the caller's restart skips the delay
                    return "is not running (it exited or was killed)"
                k.nudge.clear()
                self._settle(k, None)  # it runs: whoever asked may go on
        finally:
            waiting.cancel()

    async def _pause(self, k: _Kept, delay: float) -> None:
        """The backoff delay, cut short when a caller needs the child now."""
        if delay > 0 and not k.nudge.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(k.nudge.wait(), delay)
        k.nudge.clear()

    @staticmethod
    def _settle(k: _Kept, exc: Exception | None) -> None:
        """Tell whoever waits for the current attempt how it went; later callers wait for the next one."""
        attempt, k.attempt = k.attempt, asyncio.get_running_loop().create_future()
        if attempt.done():
            return
        if exc is None:
            attempt.set_result(None)
        else:
            attempt.set_exception(exc)
            attempt.exception()  # marked retrieved: there may be nobody waiting


class ChildError(Exception):
    """A child did not start; the message says what to do."""


class Spawned:
    """A Child hoist runs in the foreground and owns: started from `argv`, ready once `ready()` says so,
    stopped with SIGTERM, `grace` seconds, then SIGKILL. With `on_line`, its stdout lines are passed on."""

    def __init__(self, name: str, argv: Sequence[str], *, ready: Callable[[], Awaitable[bool]] | None = None,
                 ready_timeout: float = 10.0, grace: float = 10.0, env: dict[str, str] | None = None,
                 on_line: Callable[[str], None] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.grace = grace
        self.env = env
        self.on_line = on_line
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def spawn(self) -> bool:
        """Start the process; True once it is ready, False if it exited first or `ready_timeout` passed."""
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if self.on_line else None,
            env={**os.environ, **self.env} if self.env else None)
        return await until_ready(self.proc, self.ready, self.ready_timeout)

    async def start(self) -> None:
        if await self.spawn():
            return
        assert self.proc is not None
        rc = self.proc.returncode
        if rc is None:
            await self.stop()
        raise ChildError(not_started(self.name, rc, self.ready_timeout))

    async def wait(self) -> str:
        assert self.proc is not None
        if self.on_line is not None and self.proc.stdout is not None:
            while True:
                try:
                    raw = await self.proc.stdout.readline()
                except ValueError:  # a line over the stream's limit: dropped, the next one is read
                    continue
                if not raw:
                    break
                self.on_line(raw.decode("utf-8", "replace").rstrip("\n"))
        return f"exited with status {await self.proc.wait()}"

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            await terminate(proc, self.grace)


class Daemon(Protocol):
    """A server that detaches itself: blocking `start` (returns once it serves), `is_running`, `stop`."""

    def start(self) -> None: ...

    def is_running(self) -> bool: ...

    def stop(self) -> None: ...


D = TypeVar("D", bound=Daemon)


class Detached(Generic[D]):
    """A Child for a Daemon: its blocking calls run in a thread; its exit is noticed by polling."""

    def __init__(self, name: str, daemon: D, poll_s: float = POLL_S) -> None:
        self.name = name
        self.daemon = daemon
        self.poll_s = poll_s

    @property
    def running(self) -> bool:
        return self.daemon.is_running()

    async def start(self) -> None:
        await asyncio.to_thread(self.daemon.start)

    async def wait(self) -> str:
        while await asyncio.to_thread(self.daemon.is_running):
            await asyncio.sleep(self.poll_s)
        return "is not running (it exited or was killed)"

    async def stop(self) -> None:
        await asyncio.to_thread(self.daemon.stop)
