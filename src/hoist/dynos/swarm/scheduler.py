"""Dynos on a Docker Swarm (HOIST_SCHEDULER=swarm): the same seam as LocalScheduler, other machines.

Each release's slug becomes an image (swarm/images.py: a base from this host's own files, the slug
and its virtualenv as a layer at their own paths), pushed to hoist's registry once per slug (a rollback
finds its tag and reuses it). Each process type of a release is one Swarm service; its replicas are the
formation: dyno `web.3` is the service's task in slot 3, on whatever node swarm put it. The supervisor
stays the one that decides: it asks for web.1..web.N, probes each, switches the routes once the new
release's tasks answer and stops the old ones (the old release's service scales down to 0 and goes).

A web dyno keeps its local port: a relay on 127.0.0.1:PORT forwards each connection to the task's node
address and published port, as the task list says now (swarm replaces a task that dies; the relay
follows). So readiness probes, the router and its semantics are the local ones, unchanged.
One-offs (release phase, `run`, scheduler jobs) run on this machine through the local scheduler."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hoist.dynos.swarm import images as swarm_images, taskerrors
from hoist.dynos.local import LocalScheduler, SpawnError
from hoist.dynos.scheduler import DynoSpec, Survivor
from hoist.dynos.swarm.cluster import CONTAINER_PORT, Cluster, SwarmError
from hoist.dynos.swarm.dyno import SwarmDyno

LABEL = "hoist.managed"
POLL = 1.0  # seconds between reads of a service's task list


@dataclass
class Service:
    name: str
    app: str
    dynos: dict[int, SwarmDyno] = field(default_factory=dict)  # wanted slots
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    created: bool = False
    poller: asyncio.Task[None] | None = None
    suspects: dict[tuple[str, int], float] = field(default_factory=dict)  # targets that failed lately


def service_name(app: str, ptype: str, release: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9-]", "-", f"hoist-{app}-{ptype}")[:52].rstrip("-")
    return f"{name}-{release.replace('-', '')[:8]}"


class SwarmScheduler:
    """`cluster` is the manager; `registry` (HOST:PORT) where slug images are pushed; `local` runs one-offs.
    Every service is labelled with this hoist's `owner` key (of its run dir): what it removes at start and
    stop is its own, never another hoist's on the same swarm."""

    def __init__(self, cluster: Cluster, registry: str, local: LocalScheduler) -> None:
        self.owner = hashlib.sha256(str(local.run_dir.resolve()).encode()).hexdigest()[:12]
        self.cluster = cluster
        self.registry = registry
        self.local = local
        self.services: dict[str, Service] = {}
        self._images: dict[str, asyncio.Future[str]] = {}
        self._bases: dict[tuple[str, ...], str] = {}

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

    # ----- services -----

    async def spawn(self, spec: DynoSpec, on_line: Callable[[str], None],
                    on_dropped: Callable[[int], None] | None = None) -> Any:
        ptype, _, number = spec.name.partition(".")
        if not spec.formation or not number.isdigit():
            return await self.local.spawn(spec, on_line, on_dropped)
        name = service_name(spec.app, ptype, spec.release)
        svc = self.services.setdefault(name, Service(name, spec.app))
        dyno = SwarmDyno(spec, int(number), on_line)
        dyno.stop = lambda d, signum: self._track(self._stop(svc, d, signum))
        dyno.peers = lambda: [d.target for d in svc.dynos.values() if d is not dyno and d.target]
        dyno.suspects = svc.suspects
        old = svc.dynos.get(dyno.slot)
        if old is not None:
            old.end(0)
        svc.dynos[dyno.slot] = dyno
        try:
            await dyno.listen()
        except OSError as exc:
            svc.dynos.pop(dyno.slot, None)
            raise SpawnError(f"{spec.name} of {spec.app}: its relay port {dyno.port} is taken: {exc}") from None
        self._track(self._converge(svc, spec, dyno))
        return dyno

    def _track(self, coro: Any) -> None:
        asyncio.ensure_future(coro)

    async def _converge(self, svc: Service, spec: DynoSpec, dyno: SwarmDyno) -> None:
        """Make the service exist with as many replicas as its highest wanted slot; end the dyno on failure."""
        try:
            async with svc.lock:
                replicas = max(svc.dynos, default=0)
                if not svc.created:
                    image = await self.image(spec)
                    await self._create(svc, spec, image, replicas)
                    svc.created = True
                    svc.poller = asyncio.ensure_future(self._poll(svc))
                elif replicas:
                    await self.cluster.scale(svc.name, replicas)
        except SwarmError as exc:
            dyno.on_line(f"hoist: {dyno.spec.name} could not start on the swarm: {exc}")
            if svc.dynos.get(dyno.slot) is dyno:
                del svc.dynos[dyno.slot]
            dyno.end(1)

    async def _create(self, svc: Service, spec: DynoSpec, image: str, replicas: int) -> None:
        ptype = spec.name.partition(".")[0]
        env = {**spec.env, **({"PORT": str(CONTAINER_PORT)} if "PORT" in spec.env else {})}
        with tempfile.NamedTemporaryFile("w", prefix="hoist-env-", suffix=".list") as f:
            os.chmod(f.name, 0o600)  # config vars hold secrets: never on a command line
            f.write("".join(f"{k}={v}\n" for k, v in env.items() if "\n" not in v))
            f.flush()
            args = ["service", "create", "--detach", "--name", svc.name, "--replicas", str(replicas),
                    "--with-registry-auth", "--env-file", f.name, "--env", "HOIST_NODE={{.Node.Hostname}}",
                    "--restart-condition", "any", "--restart-delay", "1s", "--stop-grace-period", "10s",
                    "--label", f"{LABEL}={self.owner}", "--label", f"hoist.app={spec.app}", "--label", f"hoist.type={ptype}",
                    "--label", f"hoist.release={spec.release}", "--workdir", str(spec.cwd)]
            if "PORT" in spec.env:
                args += ["--publish", f"mode=host,target={CONTAINER_PORT}"]
            await self.cluster.run(*args, image, "/bin/bash", "-c", spec.command, timeout=120)

    async def _poll(self, svc: Service) -> None:
        """Every POLL s while the service runs: each wanted dyno follows its slot's task (node, address)."""
        said: set[str] = set()  # task errors already told to their dyno
        while svc.dynos:
            with contextlib.suppress(SwarmError):
                tasks = {t.slot: t for t in await self.cluster.tasks(svc.name)}
                for slot, dyno in list(svc.dynos.items()):
                    dyno.follow(tasks.get(slot))
                if any(d.target is None for d in svc.dynos.values()):  # why not running: what swarm said
                    for err in await taskerrors.read(self.cluster, svc.name):
                        for_ = svc.dynos.get(err.slot)
                        if for_ is not None and err.id not in said:
                            said.add(err.id)
                            for_.on_line(err.line(for_.spec.name))
            await asyncio.sleep(POLL)

    async def _stop(self, svc: Service, dyno: SwarmDyno, signum: int) -> None:
        """The dyno leaves its slot: the service shrinks to its highest wanted slot (a lower slot's task runs
        on unrouted until the slots above it go), and is removed with its last dyno."""
        if svc.dynos.get(dyno.slot) is dyno:
            del svc.dynos[dyno.slot]
        dyno.follow(None)
        try:
            async with svc.lock:
                if not svc.created or svc.dynos.get(dyno.slot) is not None:
                    pass
                elif not svc.dynos:
                    await self.cluster.remove(svc.name)
                    svc.created = False
                    if not svc.dynos and self.services.get(svc.name) is svc:
                        del self.services[svc.name]
                else:
                    await self.cluster.scale(svc.name, max(svc.dynos))
        except SwarmError as exc:
            dyno.on_line(f"hoist: stopping {dyno.spec.name} on the swarm: {exc}")
        dyno.end(-signum)

    # ----- the rest of the seam -----

    async def spawn_attached(self, spec: DynoSpec, *, tty: bool, rows: int = 24, cols: int = 80) -> Any:
        return await self.local.spawn_attached(spec, tty=tty, rows=rows, cols=cols)

    async def recover(self, sink: Callable[[str, str], tuple[Callable[[str], None], Callable[[int], None]]]
                      ) -> list[Survivor]:
        """Local one-offs are reconnected; services a previous hoist left are removed (the formation starts
        them again: swarm dynos are not adopted yet)."""
        await self._remove_all()
        return await self.local.recover(sink)

    async def _remove_all(self, app: str | None = None) -> None:
        with contextlib.suppress(SwarmError):
            mine = set(await self.cluster.services(f"{LABEL}={self.owner}"))
            if app is not None:
                mine &= set(await self.cluster.services(f"hoist.app={app}"))
            await self.cluster.remove(*sorted(mine))
        for name, svc in list(self.services.items()):
            if app is None or svc.app == app:
                for d in list(svc.dynos.values()):
                    d.end(-9)
                self.services.pop(name, None)

    async def forget_app(self, app: str) -> None:
        await self._remove_all(app)
        await self.local.forget_app(app)

    def rename(self, old: str, new: str) -> None:
        self.local.rename(old, new)

    async def detach(self) -> None:
        await self.local.detach()

    async def close(self) -> None:
        await self._remove_all()
        await self.local.close()

    def cleanup_orphans(self) -> int:
        return self.local.cleanup_orphans()
