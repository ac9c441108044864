"""Dynos on a Docker Swarm (HOIST_SCHEDULER=swarm): the same seam as LocalScheduler, other machines.

Each release's slug becomes an image (swarm/images.py: a base from this host's own files, the slug
and its virtualenv as a layer at their own paths), pushed to hoist's registry once per slug (a rollback
finds its tag and reuses it). Each formation dyno (`web.3`) is one Swarm service of one replica, labelled
with its app, type, release, dyno name and id, on whatever node swarm puts its task: so `ps:restart web.3`
is a new task of that service (start-first: the old one stops once the new one is healthy), `ps:stop web.3`
removes it, and a scale-down removes exactly the dynos the supervisor stops. The supervisor stays the one
that decides: it asks for web.1..web.N, probes each, switches the routes once the new release's tasks
answer and stops the old ones.

The router connects to a web dyno's task directly (the node's address and the published port, from the
task list read every POLL s: SwarmDyno.endpoint), so nothing of a request passes through hoist, and the
services outlive hoist: a restarted hoist adopts the services labelled with its owner key (`recover`).
Each dyno's output comes through the manager (`docker service logs`, logstream.py), with its memory as
marker lines its container's entrypoint writes (meter.py): R14/R15 as for local dynos.
One-offs (release phase, postdeploy, `run`, `run:detached`, scheduler jobs) are swarm tasks too (runs.py: they
dial back to hoist on HOIST_SWARM_HOST_ADDR); CI's test dynos run here. Every swarm dyno's add-on URLs name
HOIST_SWARM_HOST_ADDR, where the add-on servers also listen (addon_env.py)."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from hoist.dynos.swarm import images as swarm_images, taskerrors
from hoist.dynos.local import LocalScheduler
from hoist.dynos.scheduler import DynoSpec, Survivor
from hoist.dynos.swarm.cluster import CONTAINER_PORT, Cluster, SwarmError
from hoist.dynos.swarm import drain as swarm_drain
from hoist.dynos.swarm.dyno import SwarmDyno
from hoist.dynos.swarm.nodes import Node
from hoist.dynos.swarm.addon_env import node_env
from hoist.dynos.swarm.runs import Dialback, SwarmRuns, runs_on_swarm
from hoist.dynos.swarm.logstream import ServiceLogs
from hoist.dynos.swarm import meter as swarm_meter

LABEL = "hoist.managed"
POLL = 1.0  # seconds between reads of a service's task list
STOP_GRACE = 10  # seconds a task gets between SIGTERM and SIGKILL (--stop-grace-period)


def service_name(app: str, dyno: str, key: str) -> str:
    """hoist-APP-web-2-KEY: a dyno's service (KEY: the first 8 hex digits of its id, unique per start)."""
    name = re.sub(r"[^a-zA-Z0-9-]", "-", f"hoist-{app}-{dyno}")[:52].rstrip("-")
    return f"{name}-{key.replace('-', '')[:8]}"


class SwarmScheduler:
    """`cluster` is the manager; `registry` (HOST:PORT) where slug images are pushed; `local` runs one-offs.
    Every service is labelled with this hoist's `owner` key (of its run dir): what it removes at start and
    stop is its own, never another hoist's on the same swarm."""

    def __init__(self, cluster: Cluster, registry: str, local: LocalScheduler, dial: Dialback | None = None, *,
                 memory: tuple[int, int] = (0, 0), meter_every: float = 5.0) -> None:
        """`dial`: where one-offs on the swarm attach back to; `memory`: (bytes reserved, hard limit) per dyno
        container (0: none); `meter_every`: seconds between a container's memory reports (meter.py)."""
        self.memory = memory
        self.meter_every = meter_every
        self.owner = hashlib.sha256(str(local.run_dir.resolve()).encode()).hexdigest()[:12]
        self.host_addr = dial.host_addr if dial is not None else ""
        self.runs = SwarmRuns(cluster, dial, (LABEL, self.owner), self.image) if dial is not None else None
        self.cluster = cluster
        self.registry = registry
        self.local = local
        self.dynos: dict[str, SwarmDyno] = {}  # service name -> the formation dyno it runs
        self._poller: asyncio.Task[None] | None = None
        self._images: dict[str, asyncio.Future[str]] = {}
        self._bases: dict[tuple[str, ...], str] = {}
        self._logs: dict[str, ServiceLogs] = {}  # service name -> its output, while the dyno runs
        self._retiring: set[ServiceLogs] = set()  # streams of removed services, read a little longer
        self._said: set[str] = set()  # ids of the failed tasks whose error a dyno was told

    # ----- images -----

    def _copies(self, spec: DynoSpec) -> tuple[list[tuple[Path, str]], list[Path]]:
        """(host dir, same path in the image) for the slug and its virtualenv; the Pythons they need."""
        copies = [(spec.cwd, str(spec.cwd))]
        pythons: list[Path] = []
        venv = Path(spec.env["VIRTUAL_ENV"]) if spec.env.get("VIRTUAL_ENV") else None
        if venv is not None:
            if not venv.is_relative_to(spec.cwd):
                copies.append((venv, str(venv)))
            exe = venv / "bin" / "python"
            if exe.exists():
                pythons.append(exe.resolve().parent.parent)
        return copies, pythons

    async def image(self, spec: DynoSpec) -> str:
        """The slug's image in the registry: built and pushed the first time, found after (a rollback)."""
        copies, pythons = self._copies(spec)
        key = hashlib.sha256("\n".join(str(src) for src, _ in copies).encode()).hexdigest()[:16]
        tag = f"{self.registry}/hoist/{re.sub(r'[^a-z0-9-]', '-', spec.app)}:{key}"
        if tag not in self._images:
            self._images[tag] = asyncio.ensure_future(self._build(tag, copies, pythons))
        fut = self._images[tag]
        try:
            return await asyncio.shield(fut)
        except Exception:
            if self._images.get(tag) is fut:
                del self._images[tag]  # the next start tries again
            raise

    async def _build(self, tag: str, copies: list[tuple[Path, str]], pythons: list[Path]) -> str:
        key = tuple(str(p) for p in pythons)
        errors = (RuntimeError, OSError, swarm_images.subprocess.SubprocessError)
        try:
            # build_base finds its tag in 0.04 s: asked every time, so a pruned base is made again
            self._bases[key] = (await asyncio.to_thread(swarm_images.build_base, pythons))["tag"]
            await asyncio.to_thread(swarm_images.build_app, self._bases[key], tag, copies)
        except errors as exc:
            raise SwarmError(f"the slug image {tag} could not be built on the manager's engine: {exc}; free space "
                             "on the manager (`docker system df`, `docker image prune`) or fix what the build says, "
                             "then deploy again (the running release keeps serving)") from None
        try:
            await asyncio.to_thread(swarm_images.push, tag)
        except errors as exc:
            raise SwarmError(f"the slug image could not be pushed to the registry {self.registry}: {exc}; check that "
                             f"the registry is up (`curl --cacert CA https://{self.registry}/v2/` answers 401) and that "
                             "DOCKER_CONFIG holds its login (`docker login`), then deploy again (the running release "
                             "keeps serving)") from None
        return tag

    # ----- services: one per formation dyno -----

    async def spawn(self, spec: DynoSpec, on_line: Callable[[str], None],
                    on_dropped: Callable[[int], None] | None = None) -> Any:
        ptype, _, number = spec.name.partition(".")
        if not spec.formation or not number.isdigit():
            if self.runs is not None and runs_on_swarm(spec):
                return await self.runs.start(spec, on_line=on_line)
            return await self.local.spawn(spec, on_line, on_dropped)
        name = service_name(spec.app, spec.name, spec.id or spec.release)
        dyno = SwarmDyno(spec.app, spec.name, spec.release, name, web="PORT" in spec.env, on_line=on_line, id=spec.id)
        self._own(dyno)
        self._track(self._create(dyno, spec))
        return dyno

    def _own(self, dyno: SwarmDyno) -> None:
        dyno.stop = lambda d, signum: self._track(self._stop(d, signum))
        dyno.restart_task = lambda d: self._track(self._restart(d))
        self.dynos[dyno.service] = dyno
        if self._poller is None or self._poller.done():
            self._poller = asyncio.ensure_future(self._poll())

    def _track(self, coro: Any) -> None:
        asyncio.ensure_future(coro)

    async def _create(self, dyno: SwarmDyno, spec: DynoSpec) -> None:
        """Create the dyno's service (one replica); end the dyno when swarm refuses."""
        ptype = spec.name.partition(".")[0]
        env = node_env({**spec.env, **({"PORT": str(CONTAINER_PORT)} if dyno.web else {})}, self.host_addr)
        try:
            image = await self.image(spec)
            with tempfile.NamedTemporaryFile("w", prefix="hoist-env-", suffix=".list") as f:
                os.chmod(f.name, 0o600)  # config vars hold secrets: never on a command line
                f.write("".join(f"{k}={v}\n" for k, v in env.items() if "\n" not in v))
                f.flush()
                args = ["service", "create", "--detach", "--quiet", "--name", dyno.service, "--replicas", "1",
                        "--with-registry-auth", "--env-file", f.name, "--env", "HOIST_NODE={{.Node.Hostname}}",
                        "--restart-condition", "any", "--restart-delay", "1s", "--stop-grace-period", f"{STOP_GRACE}s",
                        "--update-order", "start-first", "--label", f"{LABEL}={self.owner}",
                        "--label", f"hoist.app={spec.app}", "--label", f"hoist.type={ptype}",
                        "--label", f"hoist.release={spec.release}", "--label", f"hoist.dyno={spec.name}",
                        "--label", f"hoist.id={spec.id}",
                        "--label", f"hoist.web={int(dyno.web)}", "--workdir", str(spec.cwd)]
                if dyno.web:  # swarm's start-first update waits for the new task to accept on $PORT
                    args += ["--publish", f"mode=host,target={CONTAINER_PORT}", "--health-cmd",
                             f"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{CONTAINER_PORT}'", "--health-interval", "2s",
                             "--health-timeout", "2s", "--health-retries", "3", "--health-start-period", "120s"]
                reserve, limit = self.memory
                args += ["--reserve-memory", str(reserve)] if reserve else []
                args += ["--limit-memory", str(limit)] if limit else []
                out = await self.cluster.run(*args, image, *self._command(spec), timeout=120)
            dyno.service_id = out.strip().splitlines()[-1] if out.strip() else dyno.service
            if dyno.wanted:
                self._read_logs(dyno)
            else:  # stopped while it was being created: no stream is left following a removed service
                await self.cluster.remove(dyno.service)
        except SwarmError as exc:
            dyno.on_line(f"hoist: {dyno.name} could not start on the swarm: {exc}")
            self.dynos.pop(dyno.service, None)
            dyno.end(1)

    def _command(self, spec: DynoSpec) -> list[str]:
        """bash -c COMMAND, under the memory meter when the slug has an interpreter (its virtualenv's)."""
        venv = spec.env.get("VIRTUAL_ENV")
        if not venv:
            return ["/bin/bash", "-c", spec.command]
        return [f"{venv}/bin/python", "-I", "-c", Path(swarm_meter.__file__).read_text(), f"{self.meter_every:g}",
                "/bin/bash", "-c", spec.command]

    def _read_logs(self, dyno: SwarmDyno, since: int | None = None) -> None:
        """Follow the dyno's service's output (every task of it, on any node): its lines and its memory."""
        logs = ServiceLogs(self.cluster, dyno.service, since=since)
        dyno.meter = logs.attach(1, dyno.on_line).usage  # one replica: slot 1
        self._logs[dyno.service] = logs
        logs.start(dyno.service_id)

    def _retire(self, service: str) -> None:
        """The service is going: its tasks' last lines while they stop, then no more."""
        logs = self._logs.pop(service, None)
        if logs is not None:
            self._retiring.add(logs)
            asyncio.ensure_future(logs.stop(after=STOP_GRACE + 2)).add_done_callback(
                lambda _t: self._retiring.discard(logs))

    async def _poll(self) -> None:
        """Every POLL s while there are dynos: each follows its service's tasks; one whose service is gone
        (removed behind hoist's back) ends, and the supervisor starts it again."""
        while self.dynos:
            with contextlib.suppress(SwarmError):
                await self.refresh()
            await asyncio.sleep(POLL)

    async def refresh(self) -> None:
        created = {d.service_id: d for d in self.dynos.values() if d.service_id and d.wanted}
        if not created:
            return
        alive = set(await self.cluster.services(f"{LABEL}={self.owner}"))
        for sid, d in list(created.items()):
            if not any(a.startswith(sid) or sid.startswith(a) for a in alive):
                d.on_line(f"hoist: the service of {d.name} ({d.service}) is gone from the swarm")
                self.dynos.pop(d.service, None)
                self._retire(d.service)
                del created[sid]
                d.end(1)
        by_service = await self.cluster.tasks_of(list(created)) if created else {}
        await asyncio.gather(*(d.follow(by_service.get(sid, [])) for sid, d in created.items()))
        for d in created.values():
            if d.task is None:  # why it does not run: what swarm said of its tasks, once each (taskerrors.py)
                for err in await taskerrors.read(self.cluster, d.service):
                    if err.id not in self._said:
                        self._said.add(err.id)
                        d.on_line(err.line(d.name))

    async def _stop(self, dyno: SwarmDyno, signum: int) -> None:
        """The dyno leaves: its service goes (swarm stops its task with SIGTERM, then SIGKILL)."""
        self.dynos.pop(dyno.service, None)
        try:
            if dyno.service_id:
                await self.cluster.remove(dyno.service)
                self._retire(dyno.service)
        except SwarmError as exc:
            dyno.on_line(f"hoist: stopping {dyno.name} on the swarm: {exc}")
        dyno.end(-signum)

    async def _restart(self, dyno: SwarmDyno) -> None:
        try:
            await self.cluster.force_update(dyno.service)
        except SwarmError as exc:
            dyno.on_line(f"hoist: restarting {dyno.name} on the swarm: {exc}")

    # ----- the rest of the seam -----

    async def spawn_attached(self, spec: DynoSpec, *, tty: bool, rows: int = 24, cols: int = 80) -> Any:
        if self.runs is not None:
            return await self.runs.start(spec, tty=tty, rows=rows, cols=cols)
        return await self.local.spawn_attached(spec, tty=tty, rows=rows, cols=cols)

    async def recover(self, sink: Callable[[str, str], tuple[Callable[[str], None], Callable[[int], None]]]
                      ) -> list[Survivor]:
        """Local one-offs are reconnected, and so are the services a previous hoist of this home left: each with
        a running task that answers (a web dyno) is a survivor the supervisor adopts into its slot or stops.
        Services without one, or of another shape, are removed (the formation starts them again)."""
        survivors: list[Survivor] = []
        try:
            found = await self.cluster.labelled(f"{LABEL}={self.owner}")
        except SwarmError:
            found = {}
        doomed = []
        for name, (sid, labels) in found.items():
            app, dname, release = labels.get("hoist.app", ""), labels.get("hoist.dyno", ""), labels.get("hoist.release", "")
            if not (app and dname and release):
                doomed.append(name)
                continue
            dyno = SwarmDyno(app, dname, release, name, web=labels.get("hoist.web") == "1", on_line=sink(app, dname)[0],
                             id=labels.get("hoist.id", ""))
            dyno.service_id = sid
            self._own(dyno)
        with contextlib.suppress(SwarmError):
            await self.refresh()
        since = time.time_ns()  # an adopted dyno's lines from now on (those while no hoist ran are not read)
        for name, dyno in list(self.dynos.items()):
            if dyno.task is None:
                doomed.append(name)
                self.dynos.pop(name)
                dyno.end(1)
                continue
            self._read_logs(dyno, since=since)
            survivors.append(Survivor(dyno.app, dyno.name, dyno.release, None, dyno.id, dyno, since=dyno.task.created))
        with contextlib.suppress(SwarmError):
            await self.cluster.remove(*doomed)
        return survivors + await self.local.recover(sink)

    async def _remove_all(self, app: str | None = None) -> None:
        with contextlib.suppress(SwarmError):
            mine = set(await self.cluster.services(f"{LABEL}={self.owner}"))
            if app is not None:
                mine &= set(await self.cluster.services(f"hoist.app={app}"))
            await self.cluster.remove(*sorted(mine))
        for name, d in list(self.dynos.items()):
            if app is None or d.app == app:
                self.dynos.pop(name, None)
                d.end(-9)
                logs = self._logs.pop(name, None)
                if logs is not None:
                    await logs.stop()

    async def forget_app(self, app: str) -> None:
        await self._remove_all(app)
        await self.local.forget_app(app)

    def rename(self, old: str, new: str) -> None:
        """The app's running dynos go on; their services' `hoist.app` label follows (a restarted hoist adopts
        them under the new name, and destroying the app finds them)."""
        self.local.rename(old, new)
        moved = [d for d in self.dynos.values() if d.app == old]
        for d in moved:
            d.app = new
        if moved:
            self._track(self._relabel([d.service for d in moved], new))

    async def _relabel(self, services: list[str], app: str) -> None:
        for service in services:  # a service label: its tasks run on untouched
            with contextlib.suppress(SwarmError):
                await self.cluster.run("service", "update", "--detach", "--label-add", f"hoist.app={app}", service,
                                       timeout=60)

    async def detach(self) -> None:
        """hoist hands over: the services run on (the next hoist adopts them); only the polling stops."""
        if self._poller is not None:
            self._poller.cancel()
        for logs in [*self._logs.values(), *self._retiring]:  # the next hoist reads them on
            await logs.stop()
        await self.local.detach()

    async def close(self) -> None:
        if self.runs is not None:
            await self.runs.close()
        await self._remove_all()
        for logs in list(self._retiring):  # no docker CLI outlives hoist
            await logs.stop()
        await self.local.close()

    def cleanup_orphans(self) -> int:
        return self.local.cleanup_orphans()

    # ----- nodes -----

    async def nodes(self) -> list[Node]:
        """The swarm's nodes (`hoist nodes`); SwarmError if the manager cannot say."""
        return await swarm_drain.nodes(self.cluster)

    async def drain(self, node: str) -> tuple[Node, list[str]]:
        """Move this hoist's dynos off `node` with no request lost, then drain it (swarm/drain.py)."""
        return await swarm_drain.drain(self.cluster, list(self.dynos.values()), node)

    async def activate(self, node: str) -> Node:
        return await swarm_drain.activate(self.cluster, node)
