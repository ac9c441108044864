"""A swarm dyno's endpoint (real sockets, no swarm): the router is sent to a task only once it answered HTTP;
a replacement task (ps:restart, a drained node) takes over once it answers, and until then the old one
keeps the dyno routed; with no answering task the dyno has no endpoint. Task JSON parsing, pure."""
from __future__ import annotations

import asyncio
import socket

from hoist.dynos.swarm.cluster import Task, parse_task
from hoist.dynos.swarm.dyno import SwarmDyno


async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    writer.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def endpoint_follows_answering_tasks() -> None:
    old = await asyncio.start_server(http, "127.0.0.1", 0)
    new = await asyncio.start_server(http, "127.0.0.1", 0)
    old_port, new_port = old.sockets[0].getsockname()[1], new.sockets[0].getsockname()[1]
    silent = closed_port()
    d = SwarmDyno("app", "web.2", "r1", "hoist-app-web-2-abcd", web=True, on_line=lambda line: None)
    try:
        assert d.endpoint is None and d.node is None
        await d.follow([Task(1, "n2", "127.0.0.1", silent, "running", "t0", "2026-01-01T00:00:00Z")])
        assert d.endpoint is None and d.node == "n2"  # placed and running, but not answering: not routed
        t1 = Task(1, "n2", "127.0.0.1", old_port, "starting", "t1", "2026-01-01T00:00:01Z")
        await d.follow([t1])
        assert d.endpoint == ("127.0.0.1", old_port)  # any HTTP answer counts (an app may 404 on /)
        t2 = Task(1, "n3", "127.0.0.1", silent, "running", "t2", "2026-01-01T00:00:02Z")
        await d.follow([t1, t2])  # a replacement that does not answer yet: the old task keeps serving
        assert d.endpoint == ("127.0.0.1", old_port) and d.node == "n2"
        t2 = Task(1, "n3", "127.0.0.1", new_port, "running", "t2", "2026-01-01T00:00:02Z")
        await d.follow([t1, t2])
        assert d.endpoint == ("127.0.0.1", new_port) and d.node == "n3"
        await d.follow([t2])  # the old task stopped
        assert d.endpoint == ("127.0.0.1", new_port) and d.answered == {"t2"}
        await d.follow([])  # the service has no task meant to run
        assert d.endpoint is None and d.node is None and d.returncode is None and d.pid < 0
        d.end(-15)
        assert await d.wait() == -15
    finally:
        old.close()
        new.close()


def test_the_endpoint_is_a_task_that_answered() -> None:
    asyncio.run(endpoint_follows_answering_tasks())


async def a_worker_has_no_endpoint() -> None:
    d = SwarmDyno("app", "worker.1", "r1", "hoist-app-worker-1-abcd", web=False, on_line=lambda line: None)
    await d.follow([Task(1, "n1", "10.0.0.11", None, "running", "t1", "x")])
    assert d.endpoint is None and d.node == "n1" and d.task is not None


def test_a_worker_runs_somewhere_with_no_endpoint() -> None:
    asyncio.run(a_worker_has_no_endpoint())


def test_task_json() -> None:
    info = {"ID": "tid", "Slot": 1, "ServiceID": "sid", "CreatedAt": "2026-12-02T21:00:00Z",
            "Status": {"State": "running", "PortStatus": {"Ports": [{"PublishedPort": 30001, "TargetPort": 5000}]}}}
    assert parse_task(info, "n2", "10.1.0.12") == Task(1, "n2", "10.1.0.12", 30001, "running", "tid",
                                                       "2026-12-02T21:00:00Z")
    assert parse_task({"ID": "w", "Status": {"State": "starting"}}, "n1", "a").port is None
