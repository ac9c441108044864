"""Swarm dynos' add-on URLs name the host address; nothing else changes. Pure."""
from __future__ import annotations

from pathlib import Path

import pytest

from hoist.dynos.host import HostError, host_addr_problem, swarm_cluster, swarm_dialback
from hoist.dynos.swarm.addon_env import for_node, node_env
from hoist.paths import Paths
from hoist.settings import Settings

HOST = "10.227.0.1"


def test_addon_urls_name_the_host_address() -> None:
    assert for_node("postgres://u:p%40ss@127.0.0.1:5432/db?x=1", HOST) == f"postgres://u:p%40ss@{HOST}:5432/db?x=1"
    assert for_node("redis://:secret@localhost:6379/0", HOST) == f"redis://:secret@{HOST}:6379/0"
    assert for_node("amqp://user:pw@127.0.0.1:5672/v%2Fh", HOST) == f"amqp://user:pw@{HOST}:5672/v%2Fh"
    assert for_node("rediss://127.0.0.1:6380", HOST) == f"rediss://{HOST}:6380"


def test_everything_else_is_left_alone() -> None:
    for value in ("http://127.0.0.1:5000/", "postgres://u:p@db.example.com:5432/d", "plain text", "",
                  "redis://:pw@10.0.0.9:6379", "postgres://u:p@127.0.0.1:notaport/d", "127.0.0.1:6379"):
        assert for_node(value, HOST) == value
    assert for_node("redis://:pw@127.0.0.1:6379", "") == "redis://:pw@127.0.0.1:6379"  # no host address: as is
    env = {"DATABASE_URL": "postgres://u:p@127.0.0.1:1/d", "PORT": "5000", "DYNO": "web.1"}
    assert node_env(env, HOST) == {**env, "DATABASE_URL": f"postgres://u:p@{HOST}:1/d"}
    assert env["DATABASE_URL"].startswith("postgres://u:p@127.0.0.1")  # the config itself is not changed


def test_the_host_address_must_be_private_and_one() -> None:
    assert host_addr_problem(HOST) == "" and host_addr_problem("192.168.1.5") == ""
    assert "needs HOIST_SWARM_HOST_ADDR" in host_addr_problem("")
    for bad in ("0.0.0.0", "127.0.0.1", "8.8.8.8", "::", "224.0.0.1"):
        assert "cannot be used" in host_addr_problem(bad), bad
    assert "not an IP address" in host_addr_problem("manager.example.com")


def test_the_swarm_scheduler_needs_the_host_address_before_asking_docker() -> None:
    env = {"HOIST_SCHEDULER": "swarm", "HOIST_SWARM_REGISTRY": "10.0.0.1:5000"}
    with pytest.raises(HostError, match="needs HOIST_SWARM_HOST_ADDR"):
        swarm_cluster(Settings.load(environ=env))
    with pytest.raises(HostError, match="cannot be used"):
        swarm_cluster(Settings.load(environ={**env, "HOIST_SWARM_HOST_ADDR": "0.0.0.0"}))


def test_a_host_address_that_is_not_this_machines_is_refused_at_start(tmp_path: Path) -> None:
    settings = Settings.load(environ={"HOIST_SWARM_HOST_ADDR": "10.254.254.254"})
    with pytest.raises(HostError, match="is HOIST_SWARM_HOST_ADDR an address of this machine"):
        swarm_dialback(settings, Paths(tmp_path))
