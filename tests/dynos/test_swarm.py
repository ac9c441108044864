"""The swarm scheduler's parts that need no swarm: service names, and the clear errors at start when
HOIST_SCHEDULER=swarm cannot work (a swarm dyno's endpoint: tests/dynos/swarm/). The swarm: tests/cluster/."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hoist.dynos.host import HostError, swarm_cluster
from hoist.dynos.swarm.scheduler import service_name
from hoist.dynos.swarm.cluster import Cluster, SwarmError
from hoist.settings import Settings


def test_service_names_are_valid_and_one_per_dyno_start() -> None:
    a = service_name("my-app", "web.2", "0f1e2d3c-aaaa-bbbb-cccc-000000000000")
    b = service_name("my-app", "web.2", "1f1e2d3c-aaaa-bbbb-cccc-000000000000")
    assert a == "hoist-my-app-web-2-0f1e2d3c" and a != b
    long = service_name("a" * 60, "worker_2.10", "x" * 36)
    assert len(long) <= 63 and all(c.isalnum() or c == "-" for c in long)


def test_start_errors_say_what_to_set(tmp_path: Path) -> None:
    assert swarm_cluster(Settings.load(environ={})) is None  # the default asks Docker nothing
    with pytest.raises(HostError, match="not a scheduler: use local"):
        swarm_cluster(Settings.load(environ={"HOIST_SCHEDULER": "k8s"}))
    with pytest.raises(HostError, match="needs HOIST_SWARM_REGISTRY"):
        swarm_cluster(Settings.load(environ={"HOIST_SCHEDULER": "swarm"}))


@pytest.mark.skipif(not os.path.exists("/usr/bin/docker"), reason="the docker client is missing (docker.io)")
def test_an_unreachable_manager_is_a_clear_error(tmp_path: Path) -> None:
    cluster = Cluster(env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    with pytest.raises(SwarmError, match="does not answer.*local-swarm up"):
        cluster.check()
