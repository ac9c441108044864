"""Deploys on a 3-node local swarm when things go wrong, and when they do not: 5 code-only deploys under
~20 req/s with no failed request; the registry stopped during a deploy (the push fails saying what went wrong
and what to do, the running release serves throughout); a second hoist on the same swarm (neither removes
or takes over the other's services, both serve their own apps); a swarm that is unreachable when hoist starts
(a clear error before anything starts). Root only; figures printed."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.cluster.common import (REQUIRES, Steady, docker, files, local_swarm, releases, services,
                                        state, wait)
from tests.e2e.harness import HoistServer, commit_files, make_repo

PREFIX = "hflt"
APP = "steady"
SERVER_ENV = {"HOIST_BOOT_TIMEOUT": "120"}

pytestmark = REQUIRES


def start(workdir: Path, name: str, env: dict[str, str]) -> HoistServer:
    srv = HoistServer(home=workdir / name, user_home=workdir / f"{name}-user",
                      extra_env={**env, "HOIST_STOP_GRACE": "3", "HOIST_BOOT_TIMEOUT": "120"})
    srv.start()
    srv.cli("login")
    return srv


@pytest.fixture(scope="module")
def repo(server: HoistServer, workdir: Path) -> Path:
    repo = make_repo(workdir / APP, files("v1"), server.env())
    server.cli("apps:create", APP, cwd=repo)
    server.push(repo)
    server.wait_for(APP, "v1 web.1 on", timeout=120)
    server.cli("ps:scale", "web=3", cwd=repo)
    wait(lambda: server.cli("ps", cwd=repo).stdout.count(": up ") == 3, 120, lambda: server.cli("ps", cwd=repo).stdout)
    return repo


def test_five_deploys_under_load(server: HoistServer, repo: Path) -> None:
    times = []
    with Steady(server, APP) as load:
        for i in range(2, 7):
            commit_files(repo, files(f"d{i}"), server.env(), f"d{i}")
            t0 = time.monotonic()
            server.push(repo)
            server.wait_for(APP, f"d{i} web.", timeout=120)
            times.append(time.monotonic() - t0)
    print(f"\n5 deploys under load, push to serving: {', '.join(f'{t:.1f}s' for t in times)}; "
          f"{load.ok} ok, {len(load.failures)} failed: {load.failures[:3]}")
    assert load.ok > 0 and not load.failures, load.failures[:5]


def test_registry_stopped_during_deploy(server: HoistServer, repo: Path, swarm: dict[str, str]) -> None:
    pid = state(PREFIX)["registry_pid"]
    assert pid, state(PREFIX)
    os.kill(pid, signal.SIGKILL)  # the registry local-swarm started for this module
    try:
        commit_files(repo, files("noreg"), server.env(), "noreg")
        with Steady(server, APP) as load:
            res = server.push(repo, check=False)
        out = res.stdout + res.stderr
        print(f"\npush with the registry down: exit {res.returncode}; {load.ok} ok, {len(load.failures)} failed\n"
              + "\n".join(line for line in out.splitlines() if "registry" in line)[:1500])
        assert res.returncode != 0, out[-2000:]
        assert f"could not be pushed to the registry {swarm['HOIST_SWARM_REGISTRY']}" in out, out[-3000:]
        assert "check that the registry is up" in out, out[-3000:]
        assert not load.failures, load.failures[:5]
        assert "d6 web." in server.app_get(APP).text  # the running release, unchanged
    finally:
        local_swarm(PREFIX, "up", "3")  # restarts the registry
    server.push(repo)  # the same code, now that the registry is back
    server.wait_for(APP, "noreg web.", timeout=120)


def test_second_hoist_on_the_same_swarm(server: HoistServer, repo: Path, workdir: Path,
                                        swarm: dict[str, str]) -> None:
    wait(lambda: len(releases(swarm, APP)) == 1, 60, lambda: services(swarm, APP))  # a previous release's go
    mine = services(swarm, APP)
    code = server.app_get(APP).text.split()[0]  # the running release's code
    other = start(workdir, "other", swarm)
    try:
        orepo = make_repo(workdir / "elsewhere", files("other"), other.env())
        other.cli("apps:create", "elsewhere", cwd=orepo)
        other.push(orepo)
        other.wait_for("elsewhere", "other web.1 on", timeout=120)
        assert services(swarm, APP) == mine  # the second hoist's start left the first one's services alone
        assert server.app_get(APP).text.startswith(f"{code} web.")
        assert server.app_get("elsewhere").status_code == 404  # neither serves the other's apps
        assert other.app_get(APP).status_code == 404
        owners = {docker(swarm, "service", "inspect", "--format", "{{index .Spec.Labels \"hoist.managed\"}}", s).strip()
                  for s in mine + services(swarm, "elsewhere")}
        assert len(owners) == 2, owners
    finally:
        other.stop()
    # the second one's stop removed its own services only
    wait(lambda: not services(swarm, "elsewhere"), 30, lambda: services(swarm, "elsewhere"))
    assert services(swarm, APP) == mine
    assert server.app_get(APP).text.startswith(f"{code} web.")


def test_swarm_unreachable_at_start(workdir: Path) -> None:
    dead = workdir / "no-such-engine.sock"
    srv = HoistServer(home=workdir / "unreachable", user_home=workdir / "unreachable-user",
                      extra_env={"HOIST_SCHEDULER": "swarm", "HOIST_SWARM_REGISTRY": "10.255.0.1:5000",
                                 "HOIST_SWARM_HOST_ADDR": "10.255.0.1", "DOCKER_HOST": f"unix://{dead}"})
    with pytest.raises(RuntimeError) as err:
        srv.start()
    out = str(err.value)
    print(f"\nhoist server with DOCKER_HOST at a dead socket:\n{out[-600:]}")
    assert srv.proc is not None and srv.proc.wait(30) != 0
    assert f"the swarm manager at unix://{dead} does not answer" in out, out
    assert "scripts/local-swarm up" in out or "HOIST_SCHEDULER=local" in out, out
