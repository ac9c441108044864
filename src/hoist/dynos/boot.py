"""Web dynos the loop waits for: a deploy's new ones (routed only once every
one answers, else stopped while the old release keeps serving) and a
sleeping app's woken ones (the request that woke it waits).

The loop starts them, then checks every wait once per pass: readiness comes
as `Ready` events from the probes and an exit wakes the loop, so no wait
ever blocks it or another app. Called only by the loop."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from hoist.contracts.release import RunRelease
from hoist.dynos.commands import Deploy, DeployResult, Wake
from hoist.dynos.lifecycle import Lifecycle
from hoist.dynos.once import exit_status
from hoist.dynos.runtime import AppRuntime, Dyno, DynoState
from hoist.dynos.scheduler import DynoProcess
from hoist.logs.store import LogStore

RETIRE_DELAY = 0.3  # after a deploy's switch, the router reloads before the old dynos stop listening


@dataclass(eq=False)
class Booting:
    """A deploy's new web dynos, started beside the serving ones; not in the app's dynos yet."""
    cmd: Deploy
    webs: list[Dyno]
    deadline: float
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
        self.booting.append(Booting(cmd, webs, self.clock() + self.boot_timeout))

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
            self.logs.emit(cmd.app, "hoist", "router", "Waking the app for a request")
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
        """Switch to the new web dynos once all answer; fail on the first that exits, or at the deadline."""
        pending = [(d, p) for d, p in zip(boot.webs, boot.procs) if d.state is not DynoState.UP]
        try:
            for d, proc in pending:
                if proc is not None and proc.returncode is not None:
                    rc = exit_status(proc.returncode)
                    self.logs.emit(d.app, "hoist", d.name, f"Process exited with status {rc}")
                    self.life.note_leftovers(d, proc)
                    self.life.set_state(d, DynoState.CRASHED)
                    self.discard(boot, DeployResult(False, f"{d.name} exited with status {rc} while booting; "
                                                           f"run `hoist logs` to see why"))
                    return True
            if not pending:
                boot.cmd.answer(self._switch(boot.cmd.app, boot.cmd.release, boot.webs))
                return True
            if now > boot.deadline:
                for d, _ in pending:
                    self.logs.emit(d.app, "hoist", d.name,
                                   f"Error R10 (Boot timeout) -> Web process failed to bind to $PORT within "
                                   f"{self.boot_timeout:g} seconds of launch")
                self.discard(boot, DeployResult(False, f"web did not bind $PORT within {self.boot_timeout:g} s (R10); "
                                                       "make sure the web command listens on the port in $PORT"))
                return True
        except Exception as exc:  # the deploy must hear of it, not wait forever
            boot.cmd.fail(exc)
            return True
        return False

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
