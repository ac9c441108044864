"""The supervisor: makes running dynos match desired state.

Like gunicorn's arbiter: events (a scale, a deploy, a crash, a restart
request) only wake the loop; one loop reconciles each app's dynos with its
formation and current release, restarts crashed dynos with backoff, and
publishes the routing table when the set of serving web dynos changes.
Deploys start the new release's web dynos beside the old ones and switch
only once every new one accepts connections, so no request is dropped.
"""
from __future__ import annotations

import asyncio
import signal
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from hoist.procs import STABLE_AFTER, restart_delay
from hoist.dynos.environment import dyno_env
from hoist.dynos.firewall import PortGuard
from hoist.dynos.loglimit import LineLimiter
from hoist.dynos.memory import MB, group_rss, verdict
from hoist.dynos.readiness import is_ready
from hoist.dynos.runtime import AppRuntime, Dyno, RunRelease
from hoist.dynos.scheduler import DynoProcess, DynoSpec, Scheduler
from hoist.logs.line import now_iso
from hoist.logs.store import LogStore
from hoist.procs import free_port

TICK = 0.25
READY_POLL = 0.05
R14_EVERY = 20.0
ORPHAN_GRACE = 5.0  # seconds the rest of a dead dyno's group gets between SIGTERM and SIGKILL  # seconds between repeated R14 lines for one dyno


@dataclass(frozen=True)
class DeployResult:
    ok: bool
    message: str



class Supervisor:
    def __init__(
        self, scheduler: Scheduler, logs: LogStore, on_routes: Callable[[], None], *,
        boot_timeout: float = 60.0, stop_grace: float = 30.0, clock: Callable[[], float] = time.monotonic,
        memory_quota_mb: float = 512.0, memory_kill_factor: float = 2.0, memory_interval: float = 5.0,
        sleep_after: float = 1800.0, log_rate: float = 2000.0, ports: PortGuard | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.logs = logs
        self.on_routes = on_routes
        self.boot_timeout = boot_timeout
        self.stop_grace = stop_grace
        self.clock = clock
        self.memory_quota_mb = memory_quota_mb
        self.memory_kill_factor = memory_kill_factor
        self.memory_interval = memory_interval
        self.sleep_after = sleep_after
        self.log_rate = log_rate
        self.ports = ports  # guards web dyno ports (nftables) when apps are isolated
        self.apps: dict[str, AppRuntime] = {}
        self._wake = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._routes_key: object = None
        self._closed = False

    # ----- public API (called from the event loop) -----

    def lock(self, app: str) -> asyncio.Lock:
        """Deploys, scales and restarts of one app happen one at a time."""
        return self._locks.setdefault(app, asyncio.Lock())

    def load(self, app: str, release: RunRelease | None, formation: dict[str, int]) -> None:
        """Set an app's current release and formation (at startup, or after a release without a slug)."""
        rt = self._runtime(app)
        rt.release = release
        rt.formation = dict(formation)
        self.wake()

    def set_formation(self, app: str, formation: dict[str, int]) -> None:
        rt = self._runtime(app)
        rt.formation = dict(formation)
        self.wake()

    def _runtime(self, app: str) -> AppRuntime:
        rt = self.apps.get(app)
        if rt is None:
            rt = self.apps[app] = AppRuntime(app, last_request=self.clock())
        return rt

    def set_sleep(self, app: str, on: bool) -> None:
        """ps:sleep on|off; turning it off wakes a sleeping app."""
        rt = self._runtime(app)
        rt.sleep = on
        rt.last_request = self.clock()
        if not on and rt.asleep:
            rt.asleep = False  # the loop starts the idle dynos
        self.wake()

    def note_request(self, app: str) -> None:
        """The router served a request for `app` (idle detection)."""
        rt = self.apps.get(app)
        if rt is not None:
            rt.last_request = self.clock()

    async def wake_app(self, app: str) -> bool:
        """Start a sleeping app's web dynos and wait until they answer; True if it is up."""
        rt = self.apps.get(app)
        if rt is None:
            return False
        rt.last_request = self.clock()
        async with self.lock(app):
            idle = [d for d in rt.dynos.values() if d.state == "idle"]
            rt.asleep = False
            if idle:
                self.logs.emit(app, "hoist", "router", "Waking the app for a request")
                for d in idle:
                    await self._start(d)
                await self._await_ready(idle)
            self._publish()
        self.wake()
        return any(d.state == "up" for d in rt.dynos.values() if d.type == "web")

    async def stop(self, app: str, target: str) -> int:
        """ps:stop: stop a dyno (or every dyno of a type); the formation starts it again, as on Heroku."""
        rt = self.apps.get(app)
        if rt is None:
            return 0
        chosen = [d for d in rt.dynos.values() if d.name == target or d.type == target]
        for d in chosen:
            if d.proc is not None and not d.stopping:
                self._stop_later(d)
        self._publish()
        return len(chosen)

    def wake(self) -> None:
        self._wake.set()

    async def deploy(self, app: str, release: RunRelease, formation: dict[str, int],
                     out: Callable[[str], None] = lambda s: None) -> DeployResult:
        """Make `release` current without dropping a request; on failure the old release keeps serving."""
        rt = self._runtime(app)
        rt.formation = dict(formation)
        if "release" in release.process_types:
            result = await self._release_phase(app, release, out)
            if not result.ok:
                return result
        web_qty = formation.get("web", 0) if "web" in release.process_types else 0
        new_webs = [Dyno(app, "web", n, release) for n in range(1, web_qty + 1)]
        for d in new_webs:
            await self._start(d)
        result = await self._await_ready(new_webs)
        if not result.ok:
            for d in new_webs:
                d.stopping = True
                await self._stop(d, grace=0.0)
            return result
        old = list(rt.dynos.values())
        rt.release = release
        rt.asleep = False
        rt.last_request = self.clock()
        rt.dynos = {d.name: d for d in new_webs}
        self._publish()
        for d in old:
            # Let the router reload before the old dynos stop listening.
            self._retire(d, delay=0.3)
        self.wake()
        return DeployResult(True, f"v{release.version} is serving")

    async def restart(self, app: str, target: str | None = None) -> int:
        """Restart all dynos, one type (`web`) or one dyno (`web.1`); return how many."""
        rt = self.apps.get(app)
        if rt is None:
            return 0
        chosen = [d for d in rt.dynos.values() if target is None or d.name == target or d.type == target]
        for d in chosen:
            self.logs.emit(app, "hoist", d.name, "Restarting")
            rt.dynos.pop(d.name, None)
            self._retire(d)
        self._publish()
        self.wake()
        return len(chosen)

    async def remove(self, app: str) -> None:
        """Stop everything of an app that is being destroyed."""
        rt = self.apps.pop(app, None)
        if rt is None:
            return
        for d in rt.dynos.values():
            d.retired = True
        await asyncio.gather(*(self._stop(d) for d in rt.dynos.values()))
        self._publish()

    async def run(self) -> None:
        """The loop: reconcile, sleep until woken or the next tick."""
        memory = asyncio.ensure_future(self._memory_loop())
        try:
            await self._loop()
        finally:
            memory.cancel()

    async def _loop(self) -> None:
        while not self._closed:
            self._wake.clear()
            try:
                await self._reconcile()
            except Exception as exc:  # the loop must survive any one bad app
                print(f"hoist: supervisor error: {exc!r}", flush=True)
            try:
                await asyncio.wait_for(self._wake.wait(), TICK)
            except asyncio.TimeoutError:
                pass

    async def shutdown(self) -> None:
        """Stop every dyno (SIGTERM, grace, SIGKILL)."""
        self._closed = True
        self._wake.set()
        dynos = [d for rt in self.apps.values() for d in rt.dynos.values()]
        for rt in self.apps.values():
            rt.dynos = {}
        await asyncio.gather(*(self._stop(d) for d in dynos), *list(self._stopping), return_exceptions=True)

    def web_backends(self) -> dict[str, tuple[str, list[tuple[str, int]]]]:
        """Per app: routing state (up | crashed | starting | idle | none) and the (dyno, port) of up web dynos."""
        table: dict[str, tuple[str, list[tuple[str, int]]]] = {}
        for name, rt in self.apps.items():
            webs = [d for d in rt.dynos.values() if d.type == "web"]
            up = [(d.name, d.port) for d in webs if d.state == "up" and d.port and not d.stopping]
            if up:
                state = "up"
            elif any(d.state == "crashed" or (d.state == "starting" and d.crashes) for d in webs):
                state = "crashed"  # restarting after a crash is still H10, as on Heroku
            elif rt.asleep and webs:
                state = "idle"
            elif any(d.state == "starting" for d in webs):
                state = "starting"
            else:
                state = "none"
            table[name] = (state, [(n, p) for n, p in sorted(up) if p is not None])
        return table

    # ----- the loop's work -----

    async def _reconcile(self) -> None:
        now = self.clock()
        for app, rt in list(self.apps.items()):
            if self.lock(app).locked():
                continue  # a deploy or scale is changing this app right now
            rel = rt.release
            desired: set[str] = set()
            if rel is not None:
                for ptype, qty in rt.formation.items():
                    if ptype in rel.process_types and ptype != "release":
                        desired.update(f"{ptype}.{n}" for n in range(1, qty + 1))
            for name, d in list(rt.dynos.items()):
                if rt.dynos.get(name) is not d:
                    continue  # replaced or removed (a restart) while the loop awaited an earlier dyno
                if name not in desired or d.release is not rel:
                    rt.dynos.pop(name)
                    self._retire(d)
                    continue
                await self._check(d, now, rt.asleep)
            if rel is None:
                continue
            for name in sorted(desired - set(rt.dynos)):
                ptype, _, n = name.rpartition(".")
                d = Dyno(app, ptype, int(n), rel)
                rt.dynos[name] = d
                if rt.asleep and ptype == "web":
                    d.state = "idle"
                else:
                    await self._start(d)
            if rt.sleep and not rt.asleep and now - rt.last_request > self.sleep_after:
                self._fall_asleep(rt)
        self._publish()

    def _fall_asleep(self, rt: AppRuntime) -> None:
        """Stop an idle app's web dynos; the router wakes it on the next request."""
        webs = [d for d in rt.dynos.values() if d.type == "web"]
        if not webs or any(d.state != "up" or d.stopping for d in webs):
            return  # only an app that is fully up (not booting, not crashing) idles
        rt.asleep = True
        for d in webs:
            self.logs.emit(d.app, "hoist", d.name, f"Idling after {self.sleep_after:g} s without requests")
            self._set_state(d, "idle")
            self._stop_later(d)

    async def _check(self, d: Dyno, now: float, asleep: bool) -> None:
        """Notice exits and readiness of one dyno; restart a crashed one when its delay is over."""
        if d.stopping or d.retired:
            return
        if d.state in ("down", "idle") and d.proc is None:
            if d.state == "down" or not asleep:
                await self._start(d)  # ps:stop'ed (the formation wants it back) or woken up
            return
        if d.proc is not None and d.proc.returncode is not None and d.state != "crashed":
            rc = d.proc.returncode
            ran = now - d.started_mono
            d.crashes = 1 if ran >= STABLE_AFTER else d.crashes + 1
            self.logs.emit(d.app, "hoist", d.name, f"Process exited with status {_status(rc)}")
            self._set_state(d, "crashed")
            d.next_start = now + restart_delay(d.crashes)
            self._end_group(d.proc, d.port, d.id)  # what it forked (gunicorn workers, daemons) goes with it
            d.proc = None
            d.memory_mb = None
        if d.state == "crashed" and now >= d.next_start:
            await self._start(d)
        elif d.state == "starting" and d.type == "web" and d.port and await is_ready(d.port, d.release.health_path):
            self._set_state(d, "up")
        elif d.state == "starting" and d.type == "web" and now - d.started_mono > self.boot_timeout:
            self.logs.emit(d.app, "hoist", d.name,
                           f"Error R10 (Boot timeout) -> Web process failed to bind to $PORT within "
                           f"{self.boot_timeout:g} seconds of launch")
            if d.proc:
                d.proc.signal(signal.SIGKILL)

    async def _start(self, d: Dyno) -> None:
        rel = d.release
        d.port = free_port() if d.type == "web" else None
        d.id = str(uuid.uuid4())
        if d.port and self.ports is not None:
            await self.ports.guard(d.app, d.port, d.id)  # before the dyno can listen on it
        env = dyno_env(config=rel.config, app_dir=rel.slug_dir, env_dir=rel.env_dir, dyno=d.name, port=d.port)
        spec = DynoSpec(app=d.app, name=d.name, command=d.command, cwd=rel.slug_dir, env=env)
        self.logs.emit(d.app, "hoist", d.name, f"Starting process with command `{d.command}`")
        app, name, emit = d.app, d.name, self.logs.emit
        limiter = LineLimiter(lambda line: emit(app, "app", name, line), lambda msg: emit(app, "hoist", name, msg),
                              rate=self.log_rate, burst=2 * self.log_rate)
        d.memory_mb = None
        d.proc = await self.scheduler.spawn(spec, limiter)
        if d.retired:  # restarted or removed while it was being spawned: it must not run untracked
            d.stopping = False
            await self._stop(d, grace=0.0)
            return
        # Like the arbiter's SIGCHLD: an exit wakes the loop now, not at the next tick, so the
        # routes drop a dead dyno within milliseconds.
        asyncio.ensure_future(d.proc.wait()).add_done_callback(lambda _t: self._wake.set())
        d.started_mono = self.clock()
        d.stopping = False
        self._set_state(d, "starting" if d.type == "web" else "up")

    async def _await_ready(self, dynos: list[Dyno]) -> DeployResult:
        deadline = self.clock() + self.boot_timeout
        pending = list(dynos)
        while pending:
            for d in list(pending):
                if d.proc is not None and d.proc.returncode is not None:
                    rc = d.proc.returncode
                    self.logs.emit(d.app, "hoist", d.name, f"Process exited with status {_status(rc)}")
                    self._set_state(d, "crashed")
                    return DeployResult(False, f"{d.name} exited with status {_status(rc)} while booting; "
                                               f"run `hoist logs` to see why")
                if d.port and await is_ready(d.port, d.release.health_path):
                    self._set_state(d, "up")
                    pending.remove(d)
            if pending and self.clock() > deadline:
                for d in pending:
                    self.logs.emit(d.app, "hoist", d.name,
                                   f"Error R10 (Boot timeout) -> Web process failed to bind to $PORT within "
                                   f"{self.boot_timeout:g} seconds of launch")
                return DeployResult(False, f"web did not bind $PORT within {self.boot_timeout:g} s (R10); "
                                           "make sure the web command listens on the port in $PORT")
            if pending:
                await asyncio.sleep(READY_POLL)
        return DeployResult(True, "ready")

    async def _release_phase(self, app: str, release: RunRelease, out: Callable[[str], None]) -> DeployResult:
        command = release.process_types["release"]
        name = "release.1"
        env = dyno_env(config=release.config, app_dir=release.slug_dir, env_dir=release.env_dir, dyno=name, port=None)
        out(f"-----> Running release command: {command}")
        self.logs.emit(app, "hoist", name, f"Starting process with command `{command}`")

        def line(text: str) -> None:
            self.logs.emit(app, "app", name, text)
            out("       " + text)

        proc = await self.scheduler.spawn(DynoSpec(app, name, command, release.slug_dir, env), line)
        try:
            rc = await asyncio.wait_for(proc.wait(), timeout=3600)
        except asyncio.TimeoutError:
            proc.signal(signal.SIGKILL)
            rc = await proc.wait()
        self.logs.emit(app, "hoist", name, f"Process exited with status {_status(rc)}")
        if rc != 0:
            return DeployResult(False, f"the release command `{command}` exited with status {_status(rc)}; "
                                       "the previous release keeps serving")
        return DeployResult(True, "release command succeeded")

    def _end_group(self, proc: DynoProcess, port: int | None = None, key: str = "") -> None:
        """The leader died: SIGTERM the rest of its group (requests in flight finish), SIGKILL soon after."""
        proc.signal(signal.SIGTERM)

        def kill() -> None:
            proc.signal(signal.SIGKILL)
            self._release_port(port, key)  # only now: a forked worker may listen on it until the kill
        asyncio.get_running_loop().call_later(min(self.stop_grace, ORPHAN_GRACE), kill)

    def _release_port(self, port: int | None, key: str) -> None:
        if port and self.ports is not None:
            self.ports.release(port, key)

    def _retire(self, d: Dyno, delay: float = 0.0) -> None:
        """Stop a dyno that has left its app's dynos for good (restart, scale down, a new release)."""
        d.retired = True
        self._stop_later(d, delay)

    def _stop_later(self, d: Dyno, delay: float = 0.0) -> None:
        d.stopping = True  # at once, so the loop and the routes leave it alone from now on

        async def stop() -> None:
            if delay:
                await asyncio.sleep(delay)
            await self._stop(d)

        task = asyncio.ensure_future(stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _stop(self, d: Dyno, grace: float | None = None) -> None:
        """SIGTERM the dyno's process group, wait the grace period, then SIGKILL."""
        d.stopping = True
        proc, port, key = d.proc, d.port, d.id
        if proc is None:
            return
        grace = self.stop_grace if grace is None else grace
        if proc.returncode is None:
            self.logs.emit(d.app, "hoist", d.name, "Stopping all processes with SIGTERM")
            proc.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
            except asyncio.TimeoutError:
                self.logs.emit(d.app, "hoist", d.name,
                               f"Error R12 (Exit timeout) -> At least one process failed to exit within "
                               f"{grace:g} seconds of SIGTERM")
                self.logs.emit(d.app, "hoist", d.name, "Stopping remaining processes with SIGKILL")
        # Kill what is left of the group: daemons the dyno forked outlive its leader.
        proc.signal(signal.SIGKILL)
        rc = await proc.wait()
        self._release_port(port, key)
        self.logs.emit(d.app, "hoist", d.name, f"Process exited with status {_status(rc)}")
        if d.proc is proc:  # else woken (restarted) while this stop ran: leave the new process be
            d.proc = None
            d.memory_mb = None
            if d.state != "idle":
                self._set_state(d, "down")
            d.stopping = d.retired  # a dyno still in the formation (ps:stop) starts again; a retired one never

    async def _memory_loop(self) -> None:
        """Sample every dyno's memory; R14 over the quota, R15 (restart) far over it."""
        while not self._closed:
            await asyncio.sleep(self.memory_interval)
            dynos = [d for rt in self.apps.values() for d in rt.dynos.values() if d.proc is not None]
            if not dynos:
                continue
            # /proc is read in a thread: a few hundred small reads must not stall the loop.
            rss = await asyncio.to_thread(group_rss, [d.proc.pid for d in dynos if d.proc is not None])
            now = self.clock()
            for d in dynos:
                if d.proc is None or d.stopping or d.proc.returncode is not None:
                    continue
                mb = d.memory_mb = rss.get(d.proc.pid, 0) / MB
                code = verdict(mb, self.memory_quota_mb, self.memory_kill_factor)
                if code == "R15":
                    self.logs.emit(d.app, "hoist", d.name,
                                   f"Error R15 (Memory quota vastly exceeded) -> {mb:.0f}M used of "
                                   f"{self.memory_quota_mb:g}M quota; restarting the dyno")
                    rt = self.apps.get(d.app)
                    if rt is not None and rt.dynos.get(d.name) is d:
                        await self.restart(d.app, d.name)
                elif code == "R14" and now - d.r14_at >= R14_EVERY:
                    d.r14_at = now
                    self.logs.emit(d.app, "hoist", d.name,
                                   f"Error R14 (Memory quota exceeded) -> {mb:.0f}M used of {self.memory_quota_mb:g}M quota")

    def _set_state(self, d: Dyno, state: str) -> None:
        if d.state != state:
            self.logs.emit(d.app, "hoist", d.name, f"State changed from {d.state} to {state}")
            d.state = state
            d.state_since = now_iso()

    def _publish(self) -> None:
        key = tuple(sorted((a, s, tuple(b)) for a, (s, b) in self.web_backends().items()))
        if key != self._routes_key:
            self._routes_key = key
            self.on_routes()


def _status(rc: int) -> str:
    return str(rc) if rc >= 0 else f"{128 - rc} (killed by signal {-rc})"
