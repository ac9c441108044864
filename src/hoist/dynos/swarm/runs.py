"""One-off dynos on the swarm: each is a service of one task (restart-condition none) running the release's
image on any node, its entrypoint dialback.py with a one-time secret; the task calls hoist's dial-back
listener (a Rendezvous on HOIST_SWARM_HOST_ADDR, certificate from hoist's CA) and its RemoteOneOff bridges it.
While the task has not called, its state is watched: a task the swarm could not start (no node, image pull
failed) ends the one-off with the swarm's reason. However it ends, the service is removed."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import secrets
import signal
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

from hoist.dynos.rendezvous import Rendezvous
from hoist.dynos.scheduler import DynoSpec
from hoist.dynos.swarm import dialback
from hoist.dynos.swarm.addon_env import node_env
from hoist.dynos.swarm.cluster import Cluster, SwarmError
from hoist.dynos.swarm.remote import RemoteOneOff

ATTACH_WITHIN = 300.0  # seconds a task has to call back (a first pull of the image on a node included)
CLOSE_WITHIN = 20.0  # seconds hoist waits at stop for its one-offs' services to go
WATCH = 1.0  # seconds between looks at a task that has not called yet
ENDED = ("failed", "rejected", "complete", "shutdown", "orphaned", "remove")
KINDS = ("run", "scheduler", "release", "postdeploy")  # one-offs that run on the swarm (CI's test dynos stay here)


@dataclass(frozen=True)
class Dialback:
    """Where tasks call back: the listener (on the host address) and hoist's CA certificate (DER, base64)."""
    listener: Rendezvous
    host_addr: str
    ca_b64: str

    @classmethod
    def start(cls, listener: Rendezvous, host_addr: str) -> "Dialback":
        listener.start()
        pem = listener.ca.cert_path.read_text()
        der = ssl.PEM_cert_to_DER_cert(pem)
        return cls(listener, host_addr, base64.b64encode(der).decode())


def runs_on_swarm(spec: DynoSpec) -> bool:
    return not spec.formation and spec.name.partition(".")[0] in KINDS


def oneoff_service(app: str, name: str) -> str:
    base = re.sub(r"[^a-zA-Z0-9-]", "-", f"hoist-{app}-{name}")[:52].rstrip("-")
    return f"{base}-{secrets.token_hex(3)}"


def parse_task_line(line: str) -> tuple[str, str, str]:
    """`NODE\\tCURRENT STATE\\tERROR` of `docker service ps --format` -> (node, state word lowercased, error). Pure."""
    node, _, rest = line.partition("\t")
    state, _, error = rest.partition("\t")
    return node.strip(), (state.split() or [""])[0].lower(), error.strip()


class SwarmRuns:
    def __init__(self, cluster: Cluster, dial: Dialback, owner_label: tuple[str, str],
                 image: Callable[[DynoSpec], Awaitable[str]]) -> None:
        self.cluster = cluster
        self.dial = dial
        self.owner_label = owner_label
        self.image = image
        self.running: dict[str, RemoteOneOff] = {}  # service -> its one-off
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, spec: DynoSpec, *, tty: bool = False, rows: int = 24, cols: int = 80,
                    on_line: Callable[[str], None] | None = None) -> RemoteOneOff:
        """Start the one-off's task; attached (on_line None) or with its output going to on_line."""
        image = await self.image(spec)
        service = oneoff_service(spec.app, spec.name)
        loop = asyncio.get_running_loop()
        proc = RemoteOneOff(spec.name, tty, on_line, loop, lambda: self._track(self._remove(service)))
        secret = secrets.token_urlsafe(32)
        self.dial.listener.register(secret, proc.serve)
        env = node_env(spec.env, self.dial.host_addr)
        env.update({"HOIST_ATTACH": f"{self.dial.host_addr}:{self.dial.listener.port}", "HOIST_ATTACH_SECRET": secret,
                    "HOIST_ATTACH_CA": self.dial.ca_b64, "HOIST_ATTACH_TTY": "1" if tty else "0",
                    "HOIST_ATTACH_SIZE": f"{int(rows)}x{int(cols)}"})
        python = f"{spec.env['VIRTUAL_ENV']}/bin/python" if spec.env.get("VIRTUAL_ENV") else "python3"
        with tempfile.NamedTemporaryFile("w", prefix="hoist-env-", suffix=".list") as f:
            os.chmod(f.name, 0o600)  # config vars and the secret: never on a command line
            f.write("".join(f"{k}={v}\n" for k, v in env.items() if "\n" not in v))
            f.flush()
            key, owner = self.owner_label
            args = ["service", "create", "--detach", "--name", service, "--replicas", "1", "--restart-condition", "none",
                    "--with-registry-auth", "--env-file", f.name, "--env", "HOIST_NODE={{.Node.Hostname}}",
                    "--stop-grace-period", "2s", "--label", f"{key}={owner}", "--label", f"hoist.app={spec.app}",
                    "--label", f"hoist.type={spec.name.partition('.')[0]}", "--label", f"hoist.oneoff={spec.name}",
                    "--workdir", str(spec.cwd), image, python, "-c", DIALBACK_SOURCE, "/bin/bash", "-c", spec.command]
            await self.cluster.run(*args, timeout=120)
        self.running[service] = proc
        self._track(self._watch(service, proc))
        return proc

    async def _watch(self, service: str, proc: RemoteOneOff) -> None:
        """Until the one-off ends: its task's node (for `ps`); before it calls, whether the swarm gave up on it."""
        deadline = asyncio.get_running_loop().time() + ATTACH_WITHIN
        while not proc.finished.done():
            try:
                out = await self.cluster.run("service", "ps", "--no-trunc", "--format",
                                             "{{.Node}}\t{{.CurrentState}}\t{{.Error}}", service, timeout=20)
            except SwarmError as exc:
                if "no such service" in str(exc).lower() and not proc.connected.is_set():
                    proc.fail(f"hoist: {proc.name} was removed from the swarm before it started")
                out = ""
            if out:
                lines = [parse_task_line(ln) for ln in out.splitlines() if ln.strip()]
                if lines:
                    node, state, error = lines[0]
                    proc.node = node or proc.node
                    if not proc.connected.is_set() and state in ENDED:
                        proc.fail(f"hoist: {proc.name} could not run on the swarm: its task is {state}"
                                  f"{': ' + error if error else ''}")
            if not proc.connected.is_set() and asyncio.get_running_loop().time() > deadline:
                proc.fail(f"hoist: {proc.name} did not start on the swarm within {ATTACH_WITHIN:g} s (is "
                          f"HOIST_SWARM_HOST_ADDR={self.dial.host_addr} reachable from the nodes?)")
            await asyncio.sleep(WATCH if not proc.connected.is_set() else 5 * WATCH)

    async def _remove(self, service: str) -> None:
        if self.running.pop(service, None) is not None:
            with contextlib.suppress(SwarmError):
                await self.cluster.remove(service)

    def _track(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """hoist stops: every one-off's task is stopped and its service removed."""
        for proc in list(self.running.values()):
            proc.signal(signal.SIGKILL)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=CLOSE_WITHIN)  # an unreachable manager must not hold hoist
        self.dial.listener.close()


DIALBACK_SOURCE = Path(dialback.__file__).read_text()
