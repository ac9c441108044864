"""The swarm scheduler's parts that need no swarm: a swarm dyno's relay (real sockets: it forwards to the
task it follows and drops a connection when its slot has no running task), service names, and the
clear errors at start when HOIST_SCHEDULER=swarm cannot work. The swarm itself: tests/cluster/."""
from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from hoist.dynos.host import HostError, swarm_cluster
from hoist.dynos.scheduler import DynoSpec
from hoist.dynos.swarm.dyno import SwarmDyno
from hoist.dynos.swarm.scheduler import service_name
from hoist.dynos.swarm.cluster import Cluster, SwarmError, Task
from hoist.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    data = await reader.read(100)
    writer.write(b"echo:" + data)
    await writer.drain()
    writer.close()


async def ask(port: int) -> bytes:
    """What comes back on the port (b"": the connection was closed or reset without an answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"hi")
        await writer.drain()
        writer.write_eof()
        return await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


async def relay_follows_the_task_of_its_slot() -> None:
    upstream = await asyncio.start_server(answer, "127.0.0.1", 0)
    up_port = upstream.sockets[0].getsockname()[1]
    port = free_port()
    spec = DynoSpec("app", "web.2", "true", Path("/"), {"PORT": str(port)}, formation=True)
    dyno = SwarmDyno(spec, 2, lambda line: None)
    await dyno.listen()
    try:
        assert await ask(port) == b""  # no task yet: the connection closes, nothing answers
        dyno.follow(Task(2, "node-b", "127.0.0.1", up_port, "running"))
        assert dyno.node == "node-b"
        assert await ask(port) == b"echo:hi"
        dyno.follow(Task(2, "node-b", "127.0.0.1", up_port, "starting"))  # replaced, not running yet
        assert await ask(port) == b""
        assert dyno.returncode is None and dyno.pid < 0  # no local process: the memory sampler skips it
        dyno.end(-15)
        assert await dyno.wait() == -15 and dyno.returncode == -15
        with pytest.raises(OSError):
            await ask(port)  # the relay is closed with the dyno
    finally:
        dyno.end(0)
        upstream.close()


def test_relay_follows_the_task_of_its_slot() -> None:
    asyncio.run(relay_follows_the_task_of_its_slot())


def test_service_names_are_valid_and_per_release() -> None:
    a = service_name("my-app", "web", "0f1e2d3c-aaaa-bbbb-cccc-000000000000")
    b = service_name("my-app", "web", "1f1e2d3c-aaaa-bbbb-cccc-000000000000")
    assert a == "hoist-my-app-web-0f1e2d3c" and a != b
    long = service_name("a" * 60, "worker_2", "x" * 36)
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
