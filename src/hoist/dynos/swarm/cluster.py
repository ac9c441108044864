"""The swarm as hoist sees it, through the Docker CLI against the manager (DOCKER_HOST, DOCKER_CONFIG
as `scripts/local-swarm env` prints them): services created, scaled and removed, and the running
tasks of a service with the node each is on and the address and port it answers at.

Dyno ports are published `mode=host` (no routing mesh: these kernels have no IPVS, and hoist's router
wants each dyno anyway): the engine picks a free port per task; the task list gives it and the node's
address, so the router reaches the task directly."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

DOCKER = "/usr/bin/docker"
CONTAINER_PORT = 5000  # PORT inside every web container (each has its own network namespace)


class SwarmError(Exception):
    """The swarm refused or could not be reached; the message says what docker said and what to do."""


@dataclass(frozen=True)
class Task:
    slot: int
    node: str  # the node's hostname
    addr: str  # the node's address
    port: int | None  # the published port on that node (web dynos)
    state: str  # running, starting, ...
    id: str = ""  # the task's id: a replacement (restart, drain, crash) is another task
    created: str = ""  # when swarm made it (ISO 8601)


def parse_task(info: dict[str, Any], hostname: str, addr: str) -> Task:
    """A Task from `docker inspect --type task` JSON, on the node (hostname, addr) it is placed on (pure)."""
    status = info.get("Status") or {}
    ports = (status.get("PortStatus") or {}).get("Ports") or []
    port = ports[0].get("PublishedPort") if ports else None
    return Task(int(info.get("Slot", 0)), hostname, addr, int(port) if port else None, str(status.get("State", "")),
                str(info.get("ID", "")), str(info.get("CreatedAt", "")))


class Cluster:
    """One swarm manager reached with `docker` (HOIST_DOCKER; the environment carries DOCKER_HOST and the
    registry login in DOCKER_CONFIG)."""

    def __init__(self, docker: str = "", env: dict[str, str] | None = None) -> None:
        self.docker = docker or os.environ.get("HOIST_DOCKER") or DOCKER
        self.env = {**os.environ, **(env or {})}
        self._nodes: dict[str, tuple[str, str]] = {}  # node id -> (hostname, address)

    async def run(self, *args: str, input: bytes | None = None, timeout: float = 300) -> str:
        proc = await asyncio.create_subprocess_exec(
            self.docker, *args, env=self.env, stdin=asyncio.subprocess.PIPE if input is not None else None,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(input), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise SwarmError(f"docker {args[0]} {args[1] if len(args) > 1 else ''} took over {timeout:g}s; "
                             "is the swarm manager (DOCKER_HOST) up?") from None
        if proc.returncode != 0:
            raise SwarmError(f"docker {' '.join(args[:2])} failed: {err.decode(errors='replace').strip()[-800:]}")
        return out.decode()

    def check(self) -> str:
        """The manager's node id, or SwarmError saying why this engine is no swarm manager (blocking: at start)."""
        try:
            # `version` first: when the engine does not answer, it says why ("Cannot connect to the Docker
            # daemon at ..."); `info --format` then only prints a template error
            res = subprocess.run([self.docker, "version", "--format", "{{.Server.Version}}"], env=self.env,
                                 capture_output=True, text=True, timeout=20)
            if res.returncode == 0:
                res = subprocess.run([self.docker, "info", "--format", "{{json .Swarm}}"], env=self.env,
                                     capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SwarmError(f"the swarm manager could not be asked ({self.docker} info): {exc}") from None
        if res.returncode != 0:
            raise SwarmError(f"the swarm manager at {self.env.get('DOCKER_HOST', 'the default engine')} does not "
                             f"answer: {res.stderr.strip()[-500:]}; start it (`scripts/local-swarm up 3`), or set "
                             "HOIST_SCHEDULER=local to run every app's dynos on this machine; hoist does not start "
                             "(and serves no app, local or not) until one of them works")
        info = json.loads(res.stdout)
        if not info.get("ControlAvailable"):
            raise SwarmError(f"DOCKER_HOST ({self.env.get('DOCKER_HOST', 'the default engine')}) is not a swarm "
                             "manager: run hoist on a manager node (`docker swarm init`), or `scripts/local-swarm "
                             "up 3` and its export lines")
        return str(info.get("NodeID", ""))

    async def node(self, node_id: str) -> tuple[str, str]:
        """(hostname, address) of a node (cached: a node keeps both)."""
        if node_id not in self._nodes:
            info = json.loads(await self.run("node", "inspect", "--format", "{{json .}}", node_id, timeout=20))
            self._nodes[node_id] = (info["Description"]["Hostname"], info["Status"]["Addr"])
        return self._nodes[node_id]

    async def tasks_of(self, services: list[str]) -> dict[str, list[Task]]:
        """Per service id: its placed tasks meant to run now, oldest first (during a start-first update or a
        move there are two: the running one and its replacement)."""
        ids = (await self.run("service", "ps", "-q", "--no-trunc", "--filter", "desired-state=running", *services,
                              timeout=20)).split()
        found: dict[str, list[Task]] = {}
        for info in json.loads(await self.run("inspect", "--type", "task", *ids, timeout=20)) if ids else []:
            status = info.get("Status", {})
            if not info.get("NodeID"):
                continue  # not placed yet
            hostname, addr = await self.node(info["NodeID"])
            found.setdefault(str(info.get("ServiceID", "")), []).append(parse_task(info, hostname, addr))
        return {sid: sorted(tasks, key=lambda t: t.created) for sid, tasks in found.items()}

    async def labelled(self, label: str) -> dict[str, tuple[str, dict[str, str]]]:
        """Every service with `label` (KEY=VALUE): its name -> (its id, its labels)."""
        names = await self.services(label)
        if not names:
            return {}
        infos = json.loads(await self.run("service", "inspect", *names, timeout=30))
        return {i["Spec"]["Name"]: (str(i["ID"]), dict(i["Spec"].get("Labels") or {})) for i in infos}

    async def force_update(self, service: str) -> None:
        """A new task for the service (start-first: the old one stops once the new one is healthy)."""
        await self.run("service", "update", "--detach", "--force", service, timeout=60)

    async def node_infos(self) -> list[dict[str, object]]:
        ids = (await self.run("node", "ls", "-q", timeout=20)).split()
        return list(json.loads(await self.run("node", "inspect", *ids, timeout=20))) if ids else []

    async def all_tasks(self) -> list[dict[str, object]]:
        """Every task meant to run on the swarm (`docker inspect --type task`), for what each node reserves."""
        ids = (await self.run("node", "ps", "-q", "--no-trunc", "--filter", "desired-state=running",
                              *(await self.run("node", "ls", "-q", timeout=20)).split(), timeout=20)).split()
        return list(json.loads(await self.run("inspect", "--type", "task", *ids, timeout=20))) if ids else []

    async def set_availability(self, node_id: str, availability: str) -> None:
        await self.run("node", "update", "--availability", availability, node_id, timeout=30)

    async def services(self, label: str) -> list[str]:
        return (await self.run("service", "ls", "-q", "--filter", f"label={label}", timeout=20)).split()

    async def scale(self, service: str, replicas: int) -> None:
        await self.run("service", "scale", "--detach", f"{service}={replicas}", timeout=60)

    async def remove(self, *services: str) -> None:
        if services:
            await self.run("service", "rm", *services, timeout=60)
