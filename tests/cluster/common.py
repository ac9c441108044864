"""What the swarm tests share: what they need (root, Debian's docker.io, docker-registry, apache2-utils), a local
swarm by prefix (`up`, `local_swarm`), a hoist on it (`hoist_on`), an app whose answer names its release and
node, the swarm's own view of a service's tasks, steady load, and waiting with what was last seen."""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer, Load, example_files

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "local-swarm"
DOCKER = "/usr/bin/docker"
NEEDS = {"/usr/sbin/dockerd": "docker.io", DOCKER: "docker.io", "/usr/bin/docker-registry": "docker-registry",
         "/usr/bin/htpasswd": "apache2-utils"}
MISSING = sorted({pkg for path, pkg in NEEDS.items() if not os.path.exists(path)})
# Every swarm test module's marks (`pytestmark = REQUIRES`): .ci/run, as root, installs the packages.
REQUIRES = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network namespaces, cgroups and dockerd"),
    pytest.mark.skipif(bool(MISSING), reason=f"Debian packages missing: {' '.join(MISSING)} (.ci/run installs them)"),
]

APP_PY = '''import os
from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return f"CODE {os.environ.get('DYNO', '?')} on {os.environ.get('HOIST_NODE', 'here')}\\n"
'''


def local_swarm(prefix: str, *args: str, timeout: float = 180) -> str:
    res = subprocess.run([sys.executable, str(SCRIPT), *args, "--prefix", prefix], capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, f"local-swarm {' '.join(args)}: {res.stderr[-2000:]}"
    return res.stdout


def exports(text: str) -> dict[str, str]:
    return dict(m.groups() for m in re.finditer(r"^export (\w+)=(.*)$", text, re.MULTILINE))


@contextlib.contextmanager
def up(prefix: str, nodes: int = 3) -> Iterator[dict[str, str]]:
    """A local swarm of `nodes` nodes for the block (its export lines as a dict); `down` after, whatever happened."""
    t0 = time.monotonic()
    try:
        out = local_swarm(prefix, "up", str(nodes))
        print(f"\nlocal-swarm up {nodes}: {time.monotonic() - t0:.1f}s")
        yield exports(out)
    finally:
        local_swarm(prefix, "down")


@contextlib.contextmanager
def hoist_on(workdir: Path, swarm: dict[str, str], **env: str) -> Iterator[HoistServer]:
    """A real hoist server on the swarm (HOIST_SCHEDULER=swarm from its exports), logged in; stopped after, and
    the system users it made removed."""
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user",
                      extra_env={**swarm, "HOIST_STOP_GRACE": "3", "HOIST_BOOT_TIMEOUT": "90", **env})
    srv.start()
    srv.cli("login")
    try:
        yield srv
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()
        remove_app_users(workdir)


def state(prefix: str) -> dict:  # type: ignore[type-arg]
    return json.loads(local_swarm(prefix, "status", "--json"))  # type: ignore[no-any-return]


def files(code: str) -> dict[str, str]:
    f = example_files("hello")
    f["app.py"] = APP_PY.replace("CODE", code)
    f["Procfile"] = "web: gunicorn app:app\n"
    return f


def docker(env: dict[str, str], *args: str, check: bool = True) -> str:
    res = subprocess.run([DOCKER, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert not check or res.returncode == 0, f"docker {' '.join(args)}: {res.stderr}"
    return res.stdout


def services(env: dict[str, str], app: str) -> list[str]:
    """The app's services (one per process type and release, or one per dyno: these tests hold for both)."""
    return sorted(s for s in docker(env, "service", "ls", "--format", "{{.Name}}").split() if s.startswith(f"hoist-{app}-"))


def releases(env: dict[str, str], app: str) -> set[str]:
    """The releases the app's services run."""
    names = services(env, app)
    out = docker(env, "service", "inspect", "--format", '{{index .Spec.Labels "hoist.release"}}', *names,
                 check=False) if names else ""
    return set(out.split())


def tasks(env: dict[str, str], names: list[str], fmt: str = "{{.Node}} {{.CurrentState}}") -> list[str]:
    """One line per task swarm means to run now, of these services."""
    if not names:
        return []
    return docker(env, "service", "ps", "--filter", "desired-state=running", "--format", fmt, *names,
                  check=False).splitlines()


def running_tasks(env: dict[str, str], app: str) -> list[str]:
    """The node of each of the app's tasks that swarm means to run and that runs now."""
    return [line.split()[0] for line in tasks(env, services(env, app)) if " Running " in f" {line} "]


def wait(cond: Callable[[], bool], timeout: float, what: Callable[[], object]) -> float:
    """Seconds until cond() held; AssertionError with what() after timeout."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout:g}s: {what()}")
        time.sleep(0.3)
    return time.monotonic() - t0


class Steady:
    """~20 req/s through the router whatever its latency: `clients` Load threads, each one request at a time
    (so at most `clients` requests are in flight at any moment)."""

    def __init__(self, server: HoistServer, app: str, clients: int = 2, interval: float = 0.08) -> None:
        self.loads = [Load(server, app, interval=interval) for _ in range(clients)]
        self.clients = clients

    @property
    def ok(self) -> int:
        return sum(load.ok for load in self.loads)

    @property
    def failures(self) -> list[str]:
        return [f for load in self.loads for f in load.failures]

    def __enter__(self) -> "Steady":
        for load in self.loads:
            load.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for load in self.loads:
            load.__exit__(*exc)
