"""A swarm dyno's relay when its task cannot be reached (real sockets): it connects to a running task of a
peer dyno, as the router moves on to the next backend, but only once its own task has answered (a new dyno's
readiness probe is never answered by another task); a target that refused is tried last afterwards."""
from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from hoist.dynos.scheduler import DynoSpec
from hoist.dynos.swarm.cluster import Task
from hoist.dynos.swarm.dyno import SwarmDyno


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server(tag: bytes):  # type: ignore[no-untyped-def]
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(tag)
        await writer.drain()
        writer.close()
    return answer


async def ask(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"hi")
        writer.write_eof()
        return await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


async def failover() -> None:
    own = await asyncio.start_server(server(b"own"), "127.0.0.1", 0)
    peer = await asyncio.start_server(server(b"peer"), "127.0.0.1", 0)
    own_port, peer_port = own.sockets[0].getsockname()[1], peer.sockets[0].getsockname()[1]
    port = free_port()
    dyno = SwarmDyno(DynoSpec("app", "web.2", "true", Path("/"), {"PORT": str(port)}, formation=True), 2,
                     lambda line: None)
    dyno.peers = lambda: [("127.0.0.1", peer_port)]
    await dyno.listen()
    try:
        dyno.follow(Task(2, "n2", "127.0.0.1", own_port, "starting"))
        assert await ask(port) == b""  # never served: no stand-in, the probe sees nothing answer
        dyno.follow(Task(2, "n2", "127.0.0.1", own_port, "running"))
        assert await ask(port) == b"own"
        own.close()
        await own.wait_closed()  # its node died: connections are refused
        assert await ask(port) == b"peer"
        assert ("127.0.0.1", own_port) in dyno.suspects  # tried last from now on
        dyno.follow(Task(2, "n3", "127.0.0.1", own_port, "starting"))  # swarm is replacing it elsewhere
        assert await ask(port) == b"peer"
        dyno.peers = lambda: []
        assert await ask(port) == b""  # nothing to reach: the router retries another dyno
    finally:
        dyno.end(0)
        peer.close()


def test_relay_fails_over_to_a_peer_task() -> None:
    asyncio.run(failover())
