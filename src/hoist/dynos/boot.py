"""Web dynos the loop waits for: a deploy's new ones (routed only once every
one answers, else stopped while the old release keeps serving) and a
sleeping app's woken ones (the request that woke it waits).

The loop starts them, then checks every wait once per pass: readiness comes
as `Ready` events from the probes and an exit wakes the loop, so no wait
ever blocks it or another app. Called only by the loop."""
from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field, replace
from typing import Awaitable, Callable, Sequence

from hoist.contracts.release import RunRelease
from hoist.dynos.commands import Deploy, DeployResult, Wake
from hoist.dynos.daemonized import explain, stop_leftovers
from hoist.dynos.lifecycle import Lifecycle
from hoist.dynos.once import exit_status
from hoist.dynos.runtime import AppRuntime, Dyno, DynoState
from hoist.dynos.scheduler import DynoProcess
from hoist.logs.store import LogStore
from hoist.procs import restart_delay
from hoist.logs.line import PLATFORM

RETIRE_DELAY = 0.3  # after a deploy's switch, the router reloads before the old dynos stop listening
DAEMON_WAIT = 2.0  # seconds a web dyno that exited 0 while booting has to show a server it left running


@dataclass(eq=False)
class Booting:
    """A deploy's new web dynos, started beside the serving ones; not in the app's dynos yet.

    `protect`: the app serves now, so a release that does not boot is refused and the old one keeps
    serving. When nothing serves (a first push, a crashed app), the release goes live as on Heroku even
    if its web dynos crash: they are restarted with backoff, and the next config change restarts them."""
    cmd: Deploy
    webs: list[Dyno]
    deadline: float
    protect: bool = True
    procs: list[DynoProcess | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.procs = [d.proc for d in self.webs]


@dataclass(eq=False)
class Waking:
    """A sleeping app's web dynos, started for a request. They are the app's own dynos (the loop
    restarts and times them out as any other), so this only watches them."""
    cmd: Wake
    webs: list[Dyno]
    deadline: float
    procs: list[DynoProcess | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.procs = [d.proc for d in self.webs]

    def settled(self, now: float) -> bool:
        """All up, or one is no longer booting the process it was woken with, or too late."""
        for d, proc in zip(self.webs, self.procs):
            if d.state is DynoState.UP:
                continue
            if d.state is not DynoState.STARTING or d.proc is not proc or proc is None or proc.returncode is not None:
                return True
        return all(d.state is DynoState.UP for d in self.webs) or now > self.deadline


class Boots:
    def __init__(self, life: Lifecycle, logs: LogStore, apps: dict[str, AppRuntime], publish: Callable[[], None],
                 wake: Callable[[], None], *, boot_timeout: float, clock: Callable[[], float]) -> None:
        self.life = life
        self.logs = logs
        self.apps = apps
        self.publish = publish
        self.wake = wake
        self.boot_timeout = boot_timeout
        self.clock = clock
        self.booting: list[Booting] = []
        self.waking: list[Waking] = []
        self._answers: set[asyncio.Task[None]] = set()

    def is_waking(self, app: str) -> bool:
        return any(w.cmd.app == app for w in self.waking)

    async def deploy(self, cmd: Deploy) -> None:
        """Start the new release's web dynos; `settle` answers the deploy."""
        webs = [Dyno(cmd.app, "web", n, cmd.release) for n in range(1, cmd.webs + 1)]
        try:
            for d in webs:
                await self.life.start(d)
        except BaseException:
            for d in webs:
                self.life.stop(d, grace=0.0)
            raise
        self.booting.append(Booting(cmd, webs, self.clock() + self.boot_timeout, protect=self.serving(cmd.app)))

    def serving(self, app: str) -> bool:
        """The app's web dynos answer, sleep (a request wakes them) or boot for the first time."""
        rt = self.apps.get(app)
        webs = [d for d in rt.dynos.values() if d.type == "web"] if rt is not None else []
        return bool(webs) and (rt is not None and rt.asleep or any(
            d.state is DynoState.UP or (d.state is DynoState.STARTING and not d.crashes) for d in webs))

    async def wake_app(self, cmd: Wake) -> None:
        """Start a sleeping app's idle web dynos; `settle` answers once they (or those a wake in
        flight started) are up, or are not going to be."""
        rt = self.apps.get(cmd.app)
        if rt is None:
            cmd.answer(False)
            return
        idle = [d for d in rt.dynos.values() if d.state is DynoState.IDLE]
        rt.asleep = False
        if idle:
            self.logs.emit(cmd.app, PLATFORM, "router", "Waking the app for a request")
            for d in idle:
                await self.life.start(d)
        starting = [d for d in rt.dynos.values() if d.type == "web" and d.state is DynoState.STARTING]
        self.waking.append(Waking(cmd, starting, self.clock() + self.boot_timeout))

    def settle(self, now: float) -> None:
        """Answer every wait that is over."""
        for boot in list(self.booting):
            if self._settle_boot(boot, now):
                self.booting.remove(boot)
        for waking in list(self.waking):
            if waking.settled(now):
                self.waking.remove(waking)
                try:
                    self.publish()  # the router has the woken dynos before the request it holds goes on
                finally:
                    rt = self.apps.get(waking.cmd.app)
                    webs = rt.dynos.values() if rt is not None else []
                    waking.cmd.answer(any(d.state is DynoState.UP for d in webs if d.type == "web"))

    def _settle_boot(self, boot: Booting, now: float) -> bool:
        """Switch to the new web dynos once all answer; on the first that exits, or at the deadline, refuse
        the release (`protect`) or let it go live crashed."""
        pending = [(d, p) for d, p in zip(boot.webs, boot.procs) if d.state is not DynoState.UP]
        try:
            for d, proc in pending:
                if proc is not None and proc.returncode is not None:
                    self._exited(boot, d, proc, now)
                    return True
            if not pending:
                boot.cmd.answer(self._switch(boot.cmd.app, boot.cmd.release, boot.webs))
                return True
            if now > boot.deadline:
                for d, _ in pending:
                    self.logs.emit(d.app, PLATFORM, d.name,
                                   f"Error R10 (Boot timeout) -> Web process failed to bind to $PORT within "
                                   f"{self.boot_timeout:g} seconds of launch")
                first = pending[0][0]
                result = DeployResult(False, f"web did not bind $PORT within {self.boot_timeout:g} s (R10); "
                                             "make sure the web command listens on the port in $PORT",
                                      failure="boot", dyno=first.name, lines=tuple(first.tail), command=first.command)
                if boot.protect:
                    self.discard(boot, result)
                else:
                    for d, proc in pending:
                        d.started_mono = now  # the reconciler restarts it once killed; no second R10 meanwhile
                        if proc is not None:
                            proc.signal(signal.SIGKILL)
                    self._go_live(boot, result)
                return True
        except Exception as exc:  # the deploy must hear of it, not wait forever
            boot.cmd.fail(exc)
            return True
        return False

    def _exited(self, boot: Booting, d: Dyno, proc: DynoProcess, now: float) -> None:
        """A new web dyno's process ended while booting: say how, and what it printed last."""
        rc = proc.returncode
        assert rc is not None
        status, port = exit_status(rc), d.port
        result = DeployResult(False, f"{d.name} exited with status {status} while booting", failure="boot",
                              dyno=d.name, exit_status=status, lines=tuple(d.tail), command=d.command)
        if boot.protect:
            self.logs.emit(d.app, PLATFORM, d.name, f"Process exited with status {status}")
            self.life.note_leftovers(d, proc)
            self.life.set_state(d, DynoState.CRASHED)
            if rc == 0 and port:  # name what it left on $PORT first: stopping the dyno kills that too
                self._answer_later(boot.cmd, [], self._daemonized(result, port, then_stop=boot.webs))
                return
            stops = [t for t in (self.life.stop(x, grace=0.0) for x in boot.webs) if t is not None]
        else:
            self.life.crashed(d, proc, rc, 1, now + restart_delay(1))  # restarted with backoff, as any crash
            stops = []
            result = self._go_live(boot, result, answer=rc != 0)
        if rc == 0 and port:
            self._answer_later(boot.cmd, stops, self._daemonized(result, port))
        elif boot.protect:
            boot.cmd.answer_after(stops, result)

    async def _daemonized(self, result: DeployResult, port: int, then_stop: Sequence[Dyno] = ()) -> DeployResult:
        """Exit status 0 at boot: find (and stop) the server it left running on its $PORT, and name the cause;
        then stop `then_stop` (the release's new web dynos, refused) and wait until they are gone."""
        leftover = None
        for _ in range(int(DAEMON_WAIT / 0.1)):
            leftover = await asyncio.to_thread(stop_leftovers, port)
            if leftover:
                break
            await asyncio.sleep(0.1)
        stops = [t for t in (self.life.stop(x, grace=0.0) for x in then_stop) if t is not None]
        await asyncio.gather(*stops, return_exceptions=True)
        return replace(result, message=explain(result.dyno, result.command, leftover))

    def _answer_later(self, cmd: Deploy, stops: list[asyncio.Task[None]], result: Awaitable[DeployResult]) -> None:
        async def answer() -> None:
            try:
                value = await result
            except Exception as exc:
                cmd.fail(exc)
                return
            await asyncio.gather(*stops, return_exceptions=True)
            cmd.answer(value)
        task = asyncio.ensure_future(answer())
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    def _go_live(self, boot: Booting, result: DeployResult, *, answer: bool = True) -> DeployResult:
        """Nothing served before: the release is current with its crashing web dynos (H10 until they boot)."""
        switched = self._switch(boot.cmd.app, boot.cmd.release, boot.webs)
        outcome = replace(result, ok=True) if switched.ok else switched
        if answer:
            boot.cmd.answer(outcome)
        return outcome

    def _switch(self, app: str, release: RunRelease, webs: list[Dyno]) -> DeployResult:
        """Every new web dyno answers: route to them, then retire the old release's dynos."""
        rt = self.apps.get(app)
        if rt is None:  # destroyed while its release booted
            for d in webs:
                self.life.stop(d, grace=0.0)
            return DeployResult(False, f"{app} was removed while v{release.version} started")
        old = list(rt.dynos.values())
        rt.release = release
        rt.asleep = False
        rt.last_request = self.clock()
        rt.dynos = {d.name: d for d in webs}
        self.publish()
        for d in old:
            self.life.stop(d, delay=RETIRE_DELAY)
        self.wake()  # the next pass starts the new release's other process types
        return DeployResult(True, f"v{release.version} is serving")

    def discard(self, boot: Booting, result: DeployResult) -> None:
        """A deploy failed: stop its new web dynos at once (the old release keeps serving), then answer."""
        stops = [self.life.stop(d, grace=0.0) for d in boot.webs]
        boot.cmd.answer_after([t for t in stops if t is not None], result)

    def stop_all(self) -> None:
        """hoist is stopping: fail every deploy in flight, answer every wake."""
        for boot in self.booting:
            self.discard(boot, DeployResult(False, "hoist is stopping; the previous release keeps serving"))
        for waking in self.waking:
            waking.cmd.answer(False)
        self.booting, self.waking = [], []
