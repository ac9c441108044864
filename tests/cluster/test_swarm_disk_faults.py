"""Nodes out of disk, on a 3-node local swarm whose node 3 keeps its images on a 48 MB tmpfs (the base image
alone is ~145 MB) and whose manager keeps them on a tmpfs this test fills:
- dynos swarm puts on node 3 fail to pull, and swarm places them on the other nodes; hoist serves from there;
- the manager's disk full: the slug image cannot be built, the push fails saying so and what to do, and the
  running release serves throughout; once space is freed the same push goes through.
Root only; figures printed."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.cluster.common import REQUIRES, Steady, docker, exports, files, local_swarm, services, wait
from tests.e2e.harness import HoistServer, commit_files, make_repo

PREFIX = "hflt"
APP = "diskful"
SERVER_ENV = {"HOIST_BOOT_TIMEOUT": "150"}
STATE = Path(os.environ.get("LOCAL_SWARM_STATE", "/var/lib/hoist-local-swarm")) / PREFIX

pytestmark = REQUIRES


def tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", f"{PREFIX}-data", str(path)], check=True)


@pytest.fixture(scope="module")
def swarm() -> Iterator[dict[str, str]]:
    assert not (STATE / "state.json").exists(), f"{PREFIX} is up already: scripts/local-swarm down --prefix {PREFIX}"
    try:
        tmpfs(STATE / "n1" / "data", "3g")  # `down` unmounts everything under its state directory
        tmpfs(STATE / "n3" / "data", "48m")
        yield exports(local_swarm(PREFIX, "up", "3"))
    finally:
        local_swarm(PREFIX, "down")


def test_node_out_of_disk_gets_no_dynos(server: HoistServer, workdir: Path, swarm: dict[str, str]) -> None:
    repo = make_repo(workdir / APP, files("v1"), server.env())
    server.cli("apps:create", APP, cwd=repo)
    t0 = time.monotonic()
    server.push(repo)
    server.cli("ps:scale", "web=3", cwd=repo)

    def ps() -> str:
        return server.cli("ps", cwd=repo).stdout
    took = wait(lambda: len(re.findall(r"web\.\d: up .* on hflt-n[12]\b", ps())) == 3, 200, ps)
    history = docker(swarm, "service", "ps", "--no-trunc", "--format", "{{.Node}} {{.CurrentState}} {{.Error}}",
                     *services(swarm, APP))
    print(f"\nweb=3 up on nodes 1-2 after {time.monotonic() - t0:.1f}s ({took:.1f}s after the push); swarm's tries:\n"
          + history)
    # swarm tried node 3, which could not pull the image (its engine says why; swarm says "No such image")
    assert re.search(r"hflt-n3 Rejected .*No such image", history), history
    pulls = (STATE / "n3" / "dockerd.log").read_text(errors="replace")
    assert "no space left on device" in pulls, pulls[-2000:]
    logs = server.cli("logs", "-n", "500", cwd=repo).stdout  # hoist says it too, in the dyno's log
    said = [line for line in logs.splitlines() if "swarm could not run web." in line]
    print("\n".join(said[:3]))
    assert any("on hflt-n3: No such image" in line for line in said), logs[-3000:]
    for _ in range(20):
        assert server.app_get(APP).status_code == 200


def test_manager_out_of_disk_fails_the_build(server: HoistServer, workdir: Path) -> None:
    repo = workdir / APP
    data = STATE / "n1" / "data"
    st = os.statvfs(data)
    fill = data / "fill"
    subprocess.run(["fallocate", "-l", str(st.f_bavail * st.f_frsize - 1024 * 1024), str(fill)], check=True)
    try:
        commit_files(repo, files("v2"), server.env(), "v2")
        with Steady(server, APP) as load:
            res = server.push(repo, check=False)
        out = res.stdout + res.stderr
        print(f"\npush with the manager's disk full: exit {res.returncode}; {load.ok} ok, {len(load.failures)} "
              "failed\n" + "\n".join(line for line in out.splitlines() if "slug image" in line)[:1500])
        assert res.returncode != 0, out[-2000:]
        assert "could not be built on the manager's engine" in out and "no space left on device" in out, out[-3000:]
        assert "free space on the manager" in out, out[-3000:]
        assert not load.failures, load.failures[:5]
        assert "v1 web." in server.app_get(APP).text
    finally:
        fill.unlink()
    server.push(repo)
    server.wait_for(APP, "v2 web.", timeout=150)
