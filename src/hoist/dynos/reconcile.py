"""One pass of the loop over one app: make its dynos match its formation and
current release, restart crashed dynos when their backoff delay is over,
time out web dynos that never answer (R10), and idle a sleeping app."""
from __future__ import annotations

import signal

from hoist.procs import STABLE_AFTER, restart_delay
from hoist.dynos.lifecycle import Lifecycle
from hoist.dynos.runtime import AppRuntime, Dyno, DynoState
from hoist.logs.store import LogStore
from hoist.logs.line import PLATFORM


class Reconciler:
    def __init__(self, life: Lifecycle, logs: LogStore, *, boot_timeout: float, sleep_after: float) -> None:
        self.life = life
        self.logs = logs
        self.boot_timeout = boot_timeout
        self.sleep_after = sleep_after

    async def app(self, rt: AppRuntime, now: float, *, waking: bool) -> None:
        """`waking`: a request waits for this app's web dynos, so it does not idle now."""
        rel = rt.release
        desired: set[str] = set()
        if rel is not None:
            for ptype, qty in rt.formation.items():
                if ptype in rel.process_types and ptype != "release":
                    desired.update(f"{ptype}.{n}" for n in range(1, qty + 1))
        for name, d in list(rt.dynos.items()):
            if name not in desired or d.release is not rel:
                del rt.dynos[name]
                self.life.stop(d)  # scaled down, or of an older release
                continue
            await self._check(d, now, rt.asleep)
        if rel is None:
            return
        for name in sorted(desired - set(rt.dynos)):
            ptype, _, n = name.rpartition(".")
            d = rt.dynos[name] = Dyno(rt.name, ptype, int(n), rel)
            if rt.asleep and ptype == "web":
                d.state = DynoState.IDLE
            else:
                await self.life.start(d)
        if rt.sleep and not rt.asleep and not waking and now - rt.last_request > self.sleep_after:
            self._fall_asleep(rt)

    async def _check(self, d: Dyno, now: float, asleep: bool) -> None:
        """Notice the exit of one dyno's process; restart it when due; R10 a web dyno that never answers."""
        if d.state.stopped:
            if d.proc is None and (d.state is DynoState.DOWN or not asleep):
                await self.life.start(d)  # ps:stop'ed (the formation wants it back) or woken up
            return  # else its process is still stopping
        proc = d.proc
        if proc is not None and proc.returncode is not None:
            crashes = 1 if now - d.started_mono >= STABLE_AFTER else d.crashes + 1
            self.life.crashed(d, proc, proc.returncode, crashes, now + restart_delay(crashes))
        if d.state is DynoState.CRASHED:
            if now >= d.next_start:
                await self.life.start(d)
        elif d.state is DynoState.STARTING and d.type == "web" and now - d.started_mono > self.boot_timeout:
            self.logs.emit(d.app, PLATFORM, d.name,
                           f"Error R10 (Boot timeout) -> Web process failed to bind to $PORT within "
                           f"{self.boot_timeout:g} seconds of launch")
            if d.proc is not None:
                d.proc.signal(signal.SIGKILL)

    def _fall_asleep(self, rt: AppRuntime) -> None:
        """Stop an idle app's web dynos; the router wakes it on the next request."""
        webs = [d for d in rt.dynos.values() if d.type == "web"]
        if not webs or any(d.state is not DynoState.UP for d in webs):
            return  # only an app that is fully up (not booting, not crashing) idles
        rt.asleep = True
        for d in webs:
            self.logs.emit(d.app, PLATFORM, d.name, f"Idling after {self.sleep_after:g} s without requests")
            self.life.stop(d, DynoState.IDLE)
