"""A swarm dyno's endpoint (real sockets, no swarm): the router is sent to a task only once it answered HTTP;
a replacement task (ps:restart, a drained node) takes over once it answers, and until then the old one
keeps the dyno routed; with no answering task the dyno has no endpoint. Task JSON parsing, pure."""
from __future__ import annotations

import asyncio
import socket
import subprocess

from hoist.dynos.swarm.cluster import Task, parse_task
from hoist.dynos.swarm.dyno import SwarmDyno, health_command


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


def status_server(status: bytes, seen: list[bytes]):  # type: ignore[no-untyped-def]
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readline())
        while (await reader.readline()).strip():  # the whole request, as an HTTP server reads it
            pass
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
    return asyncio.start_server(answer, "127.0.0.1", 0)


async def a_health_path_needs_2xx() -> None:
    seen: list[bytes] = []
    warming, up = await status_server(b"503 Service Unavailable", seen), await status_server(b"200 OK", seen)
    warm_port, up_port = warming.sockets[0].getsockname()[1], up.sockets[0].getsockname()[1]
    d = SwarmDyno("app", "web.1", "r1", "hoist-app-web-1-abcd", web=True, on_line=lambda line: None,
                  health_path="/health?deep=1")
    try:
        t1 = Task(1, "n1", "127.0.0.1", up_port, "running", "t1", "2026-01-01T00:00:01Z")
        await d.follow([t1])
        t2 = Task(1, "n2", "127.0.0.1", warm_port, "running", "t2", "2026-01-01T00:00:02Z")
        await d.follow([t1, t2])  # the new task answers 503 on the health check path: the old one keeps serving
        assert d.endpoint == ("127.0.0.1", up_port) and d.answered == {"t1"}
        assert seen[0].startswith(b"GET /health?deep=1 HTTP/1.1")
    finally:
        warming.close()
        up.close()


def test_with_a_health_check_path_a_task_is_routed_once_it_answers_2xx() -> None:
    asyncio.run(a_health_path_needs_2xx())


def test_swarms_health_command_asks_what_hoist_asks() -> None:
    # The command swarm runs in the container (by /bin/sh), run here by sh against real servers.
    async def check() -> None:
        seen: list[bytes] = []
        servers = {code: await status_server(code, seen) for code in (b"200 OK", b"302 Found", b"503 Unavailable",
                                                                      b"404 Not Found")}
        ports = {code: srv.sockets[0].getsockname()[1] for code, srv in servers.items()}

        def run(port: int, path: str | None) -> int:
            return subprocess.run(["sh", "-c", health_command(port, path)], timeout=10).returncode

        try:
            results = {code: await asyncio.to_thread(run, port, "/it's $HOME") for code, port in ports.items()}
            assert results == {b"200 OK": 0, b"302 Found": 0, b"503 Unavailable": 1, b"404 Not Found": 1}, results
            assert seen[0] == b"GET /it's $HOME HTTP/1.0\r\n"  # the path as written: quoted, not expanded
            assert await asyncio.to_thread(run, ports[b"503 Unavailable"], None) == 0  # no path: accepting is enough
            assert await asyncio.to_thread(run, closed_port(), None) != 0
            assert await asyncio.to_thread(run, closed_port(), "/health") != 0
        finally:
            for srv in servers.values():
                srv.close()
    asyncio.run(check())


def test_task_json() -> None:
    info = {"ID": "tid", "Slot": 1, "ServiceID": "sid", "CreatedAt": "2026-12-02T21:00:00Z",
            "Status": {"State": "running", "PortStatus": {"Ports": [{"PublishedPort": 30001, "TargetPort": 5000}]}}}
    assert parse_task(info, "n2", "10.1.0.12") == Task(1, "n2", "10.1.0.12", 30001, "running", "tid",
                                                       "2026-12-02T21:00:00Z")
    assert parse_task({"ID": "w", "Status": {"State": "starting"}}, "n1", "a").port is None
