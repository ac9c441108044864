"""`hoist nodes`, `nodes:drain NODE` and `nodes:activate NODE` on the swarm.

Swarm's own drain stops a node's tasks first and starts their replacements after, so requests to them
would fail meanwhile. hoist drains in three steps instead: the node is paused (no new task lands on it;
its tasks run on), each of hoist's dynos on it gets a new task (`service update --force`, start-first, so
on another node) while the router keeps sending it requests at the old one until the new one answers
(SwarmDyno.follow), and only then is the node set to drain (swarm moves whatever else runs there)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterable

from hoist.dynos.swarm.cluster import Cluster, SwarmError
from hoist.dynos.swarm.dyno import SwarmDyno
from hoist.dynos.swarm.nodes import Node, find, parse_node, reserved_by_node

MOVE_TIMEOUT = 180.0  # seconds for the node's dynos to answer elsewhere before swarm's drain takes over


async def nodes(cluster: Cluster) -> list[Node]:
    """Every node of the swarm, with the memory its tasks reserve."""
    reserved = reserved_by_node(await cluster.all_tasks())
    found = [parse_node(i) for i in await cluster.node_infos()]
    return sorted((Node(n.id, n.hostname, n.state, n.availability, n.role, n.addr, n.memory_total,
                        reserved.get(n.id, 0)) for n in found), key=lambda n: n.hostname)


async def named(cluster: Cluster, name: str) -> tuple[Node, list[Node]]:
    """The node called `name` (hostname or id) and all nodes; SwarmError naming the nodes if there is none."""
    every = await nodes(cluster)
    node = find(every, name)
    if node is None:
        raise SwarmError(f"there is no node {name!r} in the swarm (its nodes: "
                         f"{', '.join(n.hostname for n in every) or 'none'}); `hoist nodes` lists them")
    return node, every


async def drain(cluster: Cluster, dynos: Iterable[SwarmDyno], name: str, *, timeout: float = MOVE_TIMEOUT,
                poll: float = 0.5) -> tuple[Node, list[str]]:
    """Move every dyno off the node `name` with no request lost, then drain it; (the node, the dynos moved)."""
    node, every = await named(cluster, name)
    if last_active(node, every):
        raise SwarmError(f"{node.hostname} is the last active node of the swarm: its dynos would have nowhere to "
                         "go; join another node (`docker swarm join`) or `hoist nodes:activate` one first")
    await cluster.set_availability(node.id, "pause")  # nothing new lands there; what runs there goes on
    moving = [d for d in dynos if d.wanted and d.service_id and any(t.node == node.hostname for t in d.tasks)]
    await asyncio.gather(*(cluster.force_update(d.service) for d in moving))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline and not all(_moved(d, node.hostname) for d in moving):
        await asyncio.sleep(poll)
    await cluster.set_availability(node.id, "drain")
    return node, [f"{d.app} {d.name}" for d in moving]


def last_active(node: Node, every: list[Node]) -> bool:
    """No other node is ready and active: draining `node` would leave the dynos nowhere to go (pure)."""
    return not any(n.id != node.id and n.availability == "active" and n.state == "ready" for n in every)


def _moved(d: SwarmDyno, hostname: str) -> bool:
    """Its task off `hostname` runs (a web dyno: answered) and nothing of it is left there."""
    return not d.wanted or (d.task is not None and d.task.node != hostname
                            and not any(t.node == hostname for t in d.tasks))


async def activate(cluster: Cluster, name: str) -> Node:
    """The node takes tasks again (swarm does not move running tasks back: new ones land there)."""
    node, _ = await named(cluster, name)
    await cluster.set_availability(node.id, "active")
    return node
