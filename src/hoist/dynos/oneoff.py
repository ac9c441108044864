"""One-off dynos (`run.N`): `hoist run` / `heroku run` (attached, through the
rendezvous server) and `run:detached` (output to the log stream); Heroku
Scheduler's runs are detached one-offs of their own kind (`scheduler.N`). Each
runs the app's current release with `DYNO=<kind>.N`, through the scheduler,
and is ended by a time limit if it is forgotten."""
from __future__ import annotations

import asyncio
import random
import secrets
import signal
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from typing import Callable, Mapping

from hoist.dynos.attached import AttachedProcess
from hoist.dynos.bridge import PumpResult, linger, pump, send_final
from hoist.contracts.release import RunRelease
from hoist.dynos.rendezvous import Rendezvous
from hoist.dynos.scheduler import DynoProcess, Scheduler
from hoist.dynos.spawn import release_spec, spawn
from hoist.logs.line import PLATFORM, now_iso
from hoist.logs.store import LogStore

LINGER = 1.0  # seconds to wait for the client's end of input before closing (see bridge.linger)
EXIT_MARKER = "\uffff heroku-command-exit-status: {code}\n"  # what the heroku CLI's `run -x` parses


@dataclass
class OneOff:
    id: str
    app: str
    name: str
    command: str
    release: RunRelease
    extra_env: dict[str, str] = field(repr=False)  # `-e KEY=VALUE` of the run: never logged
    attach: bool
    tty: bool
    rows: int = 24
    cols: int = 80
    exit_status: bool = False
    time_limit: float = 86400.0
    state: str = "starting"  # starting | up | complete
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    attach_url: str | None = None
    returncode: int | None = None
    proc: DynoProcess | None = None
    exited: threading.Event = field(default_factory=threading.Event)
    kind: str = "run"  # run | scheduler: the dyno's type, and its name's prefix
    on_exit: Callable[[int], None] | None = field(default=None, repr=False)  # told the exit status

    @property
    def type(self) -> str:
        return self.kind


def exit_code(rc: int) -> int:
    """A shell-style exit code: negative (killed by signal N) -> 128+N."""
    return rc if rc >= 0 else 128 - rc


class OneOffs:
    def __init__(self, scheduler: Scheduler, logs: LogStore, rendezvous: Rendezvous | None, *,
                 time_limit: float = 86400.0, stop_grace: float = 10.0) -> None:
        self.scheduler = scheduler
        self.logs = logs
        self.rendezvous = rendezvous
        self.time_limit = time_limit
        self.stop_grace = stop_grace
        self.dynos: dict[str, dict[str, OneOff]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def list(self, app: str) -> list[OneOff]:
        if self.rendezvous is not None:
            self.rendezvous.expire()
        return sorted(self.dynos.get(app, {}).values(), key=lambda d: d.name)

    def find(self, app: str, key: str) -> OneOff | None:
        return next((d for d in self.list(app) if key in (d.name, d.id)), None)

    async def create(self, app: str, release: RunRelease, command: str, *, extra_env: Mapping[str, str],
                     attach: bool, tty: bool, rows: int = 24, cols: int = 80, exit_status: bool = False,
                     time_to_live: float | None = None, user: str = "", kind: str = "run",
                     on_exit: Callable[[int], None] | None = None) -> OneOff:
        """Register run.N (or <kind>.N); a detached one starts now, an attached one when its client connects.
        `on_exit` is told the exit status (negative: killed by that signal) once the process is gone."""
        self._loop = asyncio.get_running_loop()
        if self.rendezvous is not None:
            self.rendezvous.expire()  # forget attached runs nobody connected to
        taken = self.dynos.setdefault(app, {})
        name = f"{kind}.{random.randint(1000, 9999)}"
        while name in taken:
            name = f"{kind}.{random.randint(1000, 9999)}"
        limit = self.time_limit if time_to_live is None else min(self.time_limit, max(1.0, time_to_live))
        d = OneOff(str(uuid.uuid4()), app, name, command, release, dict(extra_env), attach, tty, rows, cols,
                   exit_status, limit, kind=kind, on_exit=on_exit)
        taken[name] = d
        by = f" by user {user}" if user else ""
        self.logs.emit(app, "app", "api", f"Starting process with command `{command}`{by}")
        if attach:
            if self.rendezvous is None:
                raise RuntimeError("the rendezvous server is not running")
            secret = secrets.token_urlsafe(32)
            d.attach_url = self.rendezvous.url(secret)
            loop = self._loop

            def expired() -> None:  # nobody attached in time: the dyno never ran
                loop.call_soon_threadsafe(self._forget, d)
            self.rendezvous.register(secret, lambda sock, initial: self._serve(d, sock, initial), on_expire=expired)
        else:
            self._track(self._run_detached(d))
        return d

    async def stop(self, d: OneOff) -> None:
        """ps:stop run.N: SIGTERM, grace, SIGKILL (or forget one nobody attached to yet)."""
        proc = d.proc
        if proc is None:
            self._forget(d)
            return
        await self._terminate(d, proc, "Stopping process with SIGTERM")

    async def remove_app(self, app: str) -> None:
        for d in list(self.dynos.get(app, {}).values()):
            await self.stop(d)
        self.dynos.pop(app, None)

    def rename(self, old: str, new: str) -> None:
        """The app is called `new` now: its running one-off dynos go on under that name."""
        running = self.dynos.pop(old, {})
        for d in running.values():
            d.app = new
        if running:
            self.dynos.setdefault(new, {}).update(running)

    async def shutdown(self) -> None:
        for app in list(self.dynos):
            await self.remove_app(app)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ----- running -----

    def _track(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_detached(self, d: OneOff) -> None:
        name = d.name

        def line(text: str) -> None:
            self.logs.emit(d.app, "app", name, text)  # d.app now: the app may be renamed while this runs
        proc = await spawn(self.scheduler, d.app, d.release, name, d.command, line, extra_env=d.extra_env)
        d.proc = proc
        self._set_state(d, "up")
        rc = await self._supervise(d, proc)
        self._done(d, rc)

    async def _start_attached(self, d: OneOff) -> AttachedProcess:
        spec = release_spec(d.app, d.release, d.name, d.command, extra_env=d.extra_env)
        proc: AttachedProcess = await self.scheduler.spawn_attached(spec, tty=d.tty, rows=d.rows, cols=d.cols)
        d.proc = proc
        self._set_state(d, "up")

        async def watch() -> None:
            rc = await self._supervise(d, proc)
            d.returncode = rc
            d.exited.set()
        self._track(watch())
        return proc

    async def _supervise(self, d: OneOff, proc: DynoProcess) -> int:
        """Wait for the process; past the time limit, stop it."""
        try:
            return await asyncio.wait_for(asyncio.shield(proc.wait()), d.time_limit)
        except asyncio.TimeoutError:
            self.logs.emit(d.app, PLATFORM, d.name, f"Stopping: the one-off dyno ran past its time limit "
                                                   f"of {d.time_limit:g} seconds")
            return await self._terminate(d, proc, "Stopping process with SIGTERM")

    async def _terminate(self, d: OneOff, proc: DynoProcess, message: str, sig: int = signal.SIGTERM) -> int:
        if proc.returncode is None:
            self.logs.emit(d.app, PLATFORM, d.name, message)
            proc.signal(sig)
            try:
                return await asyncio.wait_for(asyncio.shield(proc.wait()), self.stop_grace)
            except asyncio.TimeoutError:
                self.logs.emit(d.app, PLATFORM, d.name, "Stopping remaining processes with SIGKILL")
        proc.signal(signal.SIGKILL)  # and whatever it left in its process group
        return await proc.wait()

    def _serve(self, d: OneOff, sock: ssl.SSLSocket, initial: bytes) -> None:
        """In the rendezvous thread: start the process now that its client is here, bridge, report the exit."""
        loop = self._loop
        assert loop is not None
        try:
            proc = asyncio.run_coroutine_threadsafe(self._start_attached(d), loop).result(60)
        except Exception as exc:
            self.logs.emit(d.app, PLATFORM, d.name, f"Could not start the process: {exc}")
            loop.call_soon_threadsafe(self._forget, d)
            return
        gone = threading.Event()

        def client_gone(definitely: bool) -> None:
            # With a pty, EOF from the client is a hangup; with pipes it is the end of stdin.
            if (definitely or d.tty) and not gone.is_set():
                gone.set()
                loop.call_soon_threadsafe(self._track, self._terminate(d, proc, "Client disconnected: SIGHUP",
                                                                       signal.SIGHUP))
        result = PumpResult(False, True)
        try:
            result = pump(sock, proc, d.exited, client_gone, initial)
        except Exception:
            client_gone(True)
            raise
        finally:
            d.exited.wait()
            proc.close()
            loop.call_soon_threadsafe(self._done, d, d.returncode if d.returncode is not None else -9)
        code = exit_code(d.returncode if d.returncode is not None else -9)
        if d.exit_status:
            send_final(sock, EXIT_MARKER.format(code=code).encode(), close=False)
        if result.client_open and not result.client_done:
            linger(sock, LINGER)
        send_final(sock, b"")

    def _done(self, d: OneOff, rc: int) -> None:
        self.logs.emit(d.app, PLATFORM, d.name, f"Process exited with status {exit_code(rc)}")
        self._set_state(d, "complete")
        self._forget(d)
        if d.on_exit is not None:
            d.on_exit(rc)

    def _forget(self, d: OneOff) -> None:
        app = self.dynos.get(d.app)
        if app is not None and app.get(d.name) is d:
            del app[d.name]

    def _set_state(self, d: OneOff, state: str) -> None:
        if d.state != state:
            self.logs.emit(d.app, PLATFORM, d.name, f"State changed from {d.state} to {state}")
            d.state = state
            d.updated_at = now_iso()
