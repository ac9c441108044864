"""The supervisor: makes running dynos match desired state.

Like gunicorn's arbiter and honcho's Manager, one loop (`run`) is the only
writer of dynos. Callers set an app's desired state (`load`,
`set_formation`, `set_sleep`) or queue a command (`deploy`, `restart`,
`stop`, `wake_app`, `remove`, `shutdown`) and await its reply. Each pass
the loop applies what was queued, reconciles every app with its formation
and current release (restarting crashed dynos with backoff), settles the
web dynos it waits for, and hands its view of them to `on_routes` (the
platform publishes the route table) when the set of serving web dynos
changes. Deploys start the new release's web dynos beside
the old ones and switch only once every new one answers, so no request is
dropped. What takes time (a release phase, readiness probes, stops, memory
samples) runs in tasks that report back, so one app's wait never holds up
another's reconciliation.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Container
from typing import Callable, TypeVar

from hoist.contracts.release import RunRelease
from hoist.contracts.routes import Backends
from hoist.dynos.adopt import Offers, name_now
from hoist.dynos.boot import Boots
from hoist.dynos.commands import (Command, Deploy, DeployResult, Event, Message, Ready, Remove, Restart, Sampled,
                                  Shutdown, Stop, Stopped, Wake)
from hoist.dynos.firewall import PortGuard
from hoist.dynos.lifecycle import Lifecycle
from hoist.dynos.memory import judge, sample
from hoist.dynos.once import exit_status, run_once
from hoist.dynos.reconcile import Reconciler
from hoist.dynos.runtime import TAIL_LINES, AppRuntime, DynoState
from hoist.dynos.scheduler import DynoProcess, Scheduler
from hoist.logs.store import LogStore
from hoist.logs.line import PLATFORM

__all__ = ["DeployResult", "Supervisor"]

TICK = 0.25  # the loop's pass interval when nothing wakes it
T = TypeVar("T")


class Supervisor:
    """The dynos of every app; `run` is its loop, everything else asks it (see the module's docstring)."""

    def __init__(
        self, scheduler: Scheduler, logs: LogStore, on_routes: Callable[[Backends], None], *,
        boot_timeout: float = 60.0, stop_grace: float = 30.0, clock: Callable[[], float] = time.monotonic,
        memory_quota_mb: float = 512.0, memory_kill_factor: float = 2.0, memory_interval: float = 5.0,
        sleep_after: float = 1800.0, log_rate: float = 2000.0, ports: PortGuard | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.logs = logs
        self.on_routes = on_routes
        self.boot_timeout = boot_timeout
        self.clock = clock
        self.memory_quota_mb = memory_quota_mb
        self.memory_kill_factor = memory_kill_factor
        self.memory_interval = memory_interval
        self.apps: dict[str, AppRuntime] = {}
        self.life = Lifecycle(scheduler, logs, self._post, self.wake, clock=clock, stop_grace=stop_grace,
                              log_rate=log_rate, ports=ports)
        self.reconciler = Reconciler(self.life, logs, boot_timeout=boot_timeout, sleep_after=sleep_after)
        self.boots = Boots(self.life, logs, self.apps, self._publish, self.wake, boot_timeout=boot_timeout, clock=clock)
        self.offers = Offers()  # dynos a previous hoist left running, until the apps are loaded
        self._inbox: deque[Message] = deque()
        self._wake = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = {}
        self._renamed: dict[str, str] = {}  # old name -> new, for the output of dynos adopted under the old one
        self._routes_key: object = None
        self._running = False
        self._closed = False

    # ----- desired state (callers write it; the loop reads it every pass) -----

    def lock(self, app: str) -> asyncio.Lock:
        """For callers whose change of one app takes several steps (a release, a destroy): one at a time.

        The loop itself needs no lock: it is the only writer of dynos."""
        return self._locks.setdefault(app, asyncio.Lock())

    def load(self, app: str, release: RunRelease | None, formation: dict[str, int]) -> None:
        """Set an app's current release and formation (at startup, or after a release without a slug)."""
        rt = self._runtime(app)
        rt.release = release
        rt.formation = dict(formation)
        if not self._running:
            self.offers.claim(rt, self.life, self.clock())
        self.wake()

    async def recover(self, known: Container[str]) -> None:
        """At startup, before the apps are loaded: reconnect to the dynos a previous hoist left running;
        `load` adopts those its app wants, `reject_unclaimed` stops the rest. Lines kept for apps not
        `known` (destroyed meanwhile) are dropped."""
        def sink(app: str, name: str) -> tuple[Callable[[str], None], Callable[[int], None]]:
            quiet = (lambda line: None, lambda n: None)
            return self.life.sink(lambda: name_now(self._renamed, app), name) if app in known else quiet
        self.offers.offer(await self.scheduler.recover(sink))

    def reject_unclaimed(self) -> tuple[int, int]:
        """Every app is loaded: stop the survivors none adopted. (adopted, stopped)."""
        return self.offers.adopted, self.offers.reject_rest(self.life, self.apps)

    def set_formation(self, app: str, formation: dict[str, int]) -> None:
        self._runtime(app).formation = dict(formation)
        self.wake()

    def set_sleep(self, app: str, on: bool) -> None:
        """ps:sleep on|off; turning it off wakes a sleeping app."""
        rt = self._runtime(app)
        rt.sleep = on
        rt.last_request = self.clock()
        if not on and rt.asleep:
            rt.asleep = False  # the loop starts the idle dynos
        self.wake()

    def rename(self, old: str, new: str) -> None:
        """The app is called `new` from now on: its dynos keep running (their files are where they were;
        only the name changed), restarts and scaling find them under the new name, and the route table
        follows. Synchronous: no pass of the loop sees half of it."""
        rt = self.apps.pop(old, None)
        if rt is None:
            return
        rt.name = new
        dynos = [*rt.dynos.values(), *self.life.stopping]
        for boot in self.boots.booting:
            if boot.cmd.app == old:
                boot.cmd.app = new
                dynos += boot.webs
        for waking in self.boots.waking:
            if waking.cmd.app == old:
                waking.cmd.app = new
                dynos += waking.webs
        for d in dynos:
            if d.app == old:
                d.app = new
        self.apps[new] = rt
        self._renamed.pop(new, None)
        self._renamed[old] = new
        self.scheduler.rename(old, new)
        if old in self._locks:  # whoever waits for the old name's lock gets the app's one lock
            self._locks[new] = self._locks.pop(old)
        self._publish()

    def note_request(self, app: str) -> None:
        """The router served a request for `app` (idle detection)."""
        rt = self.apps.get(app)
        if rt is not None:
            rt.last_request = self.clock()

    def wake(self) -> None:
        self._wake.set()

    def _runtime(self, app: str) -> AppRuntime:
        rt = self.apps.get(app)
        if rt is None:
            rt = self.apps[app] = AppRuntime(app, last_request=self.clock())
        return rt

    # ----- commands (queued into the loop; the reply says how it went) -----

    async def deploy(self, app: str, release: RunRelease, formation: dict[str, int],
                     out: Callable[[str], None] = lambda s: None) -> DeployResult:
        """Make `release` current without dropping a request; on failure the old release keeps serving."""
        self._runtime(app).formation = dict(formation)
        if "release" in release.process_types:
            result = await self._release_phase(app, release, out)
            if not result.ok:
                return result
        webs = formation.get("web", 0) if "web" in release.process_types else 0
        return await self._send(Deploy(app, release, webs))

    async def _release_phase(self, app: str, release: RunRelease, out: Callable[[str], None]) -> DeployResult:
        """Runs in the caller's task: a long migration holds up no dyno of any app."""
        command = release.process_types["release"]
        out(f"-----> Running release command: {command}")
        tail: deque[str] = deque(maxlen=TAIL_LINES)

        def line(text: str) -> None:
            tail.append(text.removeprefix(" " * 7))
            out(text)
        rc = await run_once(self.scheduler, self.logs, app, release, "release.1", command, line)
        if rc != 0:
            return DeployResult(False, f"the release command `{command}` exited with status {exit_status(rc)}; "
                                       "the previous release keeps serving", failure="release", dyno="release.1",
                                exit_status=exit_status(rc), lines=tuple(tail), command=command)
        return DeployResult(True, "release command succeeded")

    async def restart(self, app: str, target: str | None = None) -> int:
        """Restart all dynos, one type (`web`) or one dyno (`web.1`); return how many."""
        return await self._send(Restart(app, target))

    async def stop(self, app: str, target: str) -> int:
        """ps:stop: stop a dyno (or every dyno of a type); the formation starts it again, as on Heroku."""
        return await self._send(Stop(app, target))

    async def wake_app(self, app: str) -> bool:
        """Start a sleeping app's web dynos and wait until they answer; True if it is up."""
        rt = self.apps.get(app)
        if rt is None:
            return False
        rt.last_request = self.clock()
        return await self._send(Wake(app))

    async def remove(self, app: str) -> None:
        """Stop everything of an app that is being destroyed: its dynos, then whatever is left in its cgroup."""
        await self._send(Remove(app))
        await self.scheduler.forget_app(app)

    async def detach(self) -> None:
        """hoist hands over to its next run: end the loop and leave every dyno running (their shims keep
        their output); the next hoist adopts them."""
        self._closed = True
        self.wake()
        self.boots.stop_all()
        for rt in self.apps.values():
            for d in rt.dynos.values():
                detach = getattr(d.proc, "detach", None)
                if callable(detach):
                    detach()

    async def shutdown(self) -> None:
        """Stop every dyno (SIGTERM, grace, SIGKILL)."""
        cmd = Shutdown()
        if self._running:
            await self._send(cmd)
        else:  # no loop runs: nothing else changes dynos
            self._shutdown(cmd)
            await cmd.reply

    async def _send(self, cmd: Command[T]) -> T:
        self._inbox.append(cmd)
        self._wake.set()
        return await cmd.reply

    def _post(self, event: Event) -> None:
        self._inbox.append(event)
        self._wake.set()

    # ----- what the router sees -----

    def web_backends(self) -> dict[str, tuple[str, list[tuple[str, str, int]]]]:
        """Per app: routing state (up | crashed | starting | idle | none) and the (dyno, host, port) of up web dynos."""
        table: dict[str, tuple[str, list[tuple[str, str, int]]]] = {}
        for name, rt in self.apps.items():
            webs = [d for d in rt.dynos.values() if d.type == "web"]
            up = [(d.name, *ep) for d in webs if d.state is DynoState.UP and (ep := d.endpoint)]
            if up:
                state = "up"
            elif any(d.state is DynoState.CRASHED or (d.state is DynoState.STARTING and d.crashes) for d in webs):
                state = "crashed"  # restarting after a crash is still H10, as on Heroku
            elif rt.asleep and webs:
                state = "idle"
            elif any(d.state in (DynoState.STARTING, DynoState.UP) for d in webs):
                state = "starting"
            else:
                state = "none"
            table[name] = (state, sorted(up))
        return table

    def _publish(self) -> None:
        backends = self.web_backends()
        key = tuple(sorted((a, s, tuple(b)) for a, (s, b) in backends.items()))
        if key != self._routes_key:
            self._routes_key = key
            self.on_routes(backends)

    # ----- the loop -----

    async def run(self) -> None:
        """The loop: apply what was queued, reconcile, settle, publish; sleep until woken or the next tick."""
        self._running = True
        sampler = asyncio.ensure_future(sample(self.memory_interval, self._procs, lambda rss: self._post(Sampled(rss))))
        try:
            while not self._closed:
                self._wake.clear()
                try:
                    await self._pass()
                except Exception as exc:  # the loop must survive anything one pass meets
                    print(f"hoist: supervisor error: {exc!r}", flush=True)
                if not self._inbox and not self._closed:
                    try:
                        await asyncio.wait_for(self._wake.wait(), TICK)
                    except asyncio.TimeoutError:
                        pass
        finally:
            self._running = False
            sampler.cancel()
            self.life.cancel_probes()
            while self._inbox:
                msg = self._inbox.popleft()
                if isinstance(msg, Command):
                    msg.fail(RuntimeError("hoist is stopping"))

    async def _pass(self) -> None:
        while self._inbox:
            msg = self._inbox.popleft()
            try:
                await self._apply(msg)
            except Exception as exc:  # the loop must survive any one bad command
                if isinstance(msg, Command):
                    msg.fail(exc)
                else:
                    print(f"hoist: supervisor error: {exc!r}", flush=True)
            if self._closed:
                return
        now = self.clock()
        for app, rt in list(self.apps.items()):
            try:
                await self.reconciler.app(rt, now, waking=self.boots.is_waking(app))
            except Exception as exc:  # ... and any one bad app
                print(f"hoist: supervisor error: {exc!r}", flush=True)
        self.boots.settle(self.clock())
        self._publish()

    async def _apply(self, msg: Message) -> None:
        match msg:
            case Deploy():
                await self.boots.deploy(msg)
            case Restart(app=app, target=target):
                msg.answer(self._restart(app, target))
            case Stop(app=app, target=target):
                msg.answer(self._stop(app, target))
            case Wake():
                await self.boots.wake_app(msg)
            case Remove():
                self._remove(msg)
            case Shutdown():
                self._shutdown(msg)
            case Ready(dyno=d, proc=proc):
                if d.proc is proc and d.state is DynoState.STARTING:
                    self.life.set_state(d, DynoState.UP)
            case Stopped(dyno=d, proc=proc):
                if d.proc is proc:  # else it was started again (woken) while the old process stopped
                    d.proc = None
                    d.memory_mb = None
            case Sampled(rss=rss):
                self._sampled(rss)

    # ----- applying commands (only ever called by the loop) -----

    def _restart(self, app: str, target: str | None) -> int:
        rt = self.apps.get(app)
        if rt is None:
            return 0
        chosen = [d for d in rt.dynos.values() if target is None or d.name == target or d.type == target]
        for d in chosen:
            self.logs.emit(app, PLATFORM, d.name, "Restarting")
            if d.state is DynoState.UP and hasattr(d.proc, "restart"):  # swarm: a new task, start-first, routed after
                getattr(d.proc, "restart")()
                continue
            del rt.dynos[d.name]  # this pass's reconcile starts its successor
            self.life.stop(d)
        self._publish()
        return len(chosen)

    def _stop(self, app: str, target: str) -> int:
        rt = self.apps.get(app)
        if rt is None:
            return 0
        chosen = [d for d in rt.dynos.values() if d.name == target or d.type == target]
        for d in chosen:
            self.life.stop(d)  # DOWN: once its process is gone, the formation starts it again
        self._publish()
        return len(chosen)

    def _remove(self, cmd: Remove) -> None:
        rt = self.apps.pop(cmd.app, None)
        stops = [self.life.stop(d) for d in rt.dynos.values()] if rt is not None else []
        self._publish()
        cmd.answer_after([t for t in stops if t is not None], None)

    def _shutdown(self, cmd: Shutdown) -> None:
        self._closed = True
        self.boots.stop_all()
        for rt in self.apps.values():
            for d in rt.dynos.values():
                self.life.stop(d)
            rt.dynos = {}
        cmd.answer_after(list(self.life.stopping.values()), None)

    # ----- memory (sampled by a task, judged here) -----

    def _procs(self) -> list[DynoProcess]:
        return [d.proc for rt in self.apps.values() for d in rt.dynos.values() if d.proc is not None]

    def _sampled(self, rss: dict[int, tuple[int, int]]) -> None:
        now = self.clock()
        for app, rt in list(self.apps.items()):
            for d in list(rt.dynos.values()):
                proc = d.proc
                if proc is None or d.state.stopped or proc.returncode is not None or proc.pid not in rss:
                    continue
                used, oom_kills = rss[proc.pid]
                if judge(d, used, self.memory_quota_mb, self.memory_kill_factor, now, self.logs, oom_kills):
                    self._restart(app, d.name)  # R15
