"""The machines dynos run on (`hoist nodes`, `nodes:drain`, `nodes:activate`): the swarm's nodes with
HOIST_SCHEDULER=swarm, this machine alone with the local scheduler. Admin only: a node carries every
user's dynos."""
from __future__ import annotations

import socket
from typing import Any

from hoist.dynos.supervisor import Supervisor
from hoist.dynos.swarm.cluster import SwarmError
from hoist.dynos.swarm.nodes import Node, local_node
from hoist.dynos.swarm.scheduler import SwarmScheduler
from hoist.platform.errors import PlatformError
from hoist.state.users import User

NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _admin(user: User, what: str) -> None:
    if not user.is_admin:
        raise PlatformError("forbidden", f"Only the admin can {what}: a node runs every user's dynos; ask the "
                                         "admin (the user `hoist server` made first).", 403)


def _node_name(name: object) -> str:
    if not isinstance(name, str) or not 0 < len(name) <= 128 or not set(name) <= NAME_CHARS:
        raise PlatformError("invalid_params", f"{name!r} is not a node name: give a hostname or node id from "
                                              "`hoist nodes`.", 422, "node")
    return name


class Nodes:
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor

    def _swarm(self, what: str) -> SwarmScheduler:
        sched = self.supervisor.scheduler
        if not isinstance(sched, SwarmScheduler):
            raise PlatformError("invalid_params", f"hoist runs dynos on this machine only (HOIST_SCHEDULER=local): "
                                                  f"there is no node to {what}; start hoist with "
                                                  "HOIST_SCHEDULER=swarm to run dynos on a Docker Swarm.", 422, "node")
        return sched

    def _dynos_by_node(self, default: str) -> dict[str, list[str]]:
        """Node hostname -> "APP web.1" of the running dynos the supervisor has there."""
        out: dict[str, list[str]] = {}
        for app, rt in sorted(self.supervisor.apps.items()):
            for d in sorted(rt.dynos.values(), key=lambda d: (d.type, d.number)):
                if d.proc is None or d.proc.returncode is not None:
                    continue
                node = getattr(d.proc, "node", default) or ""
                if node:
                    out.setdefault(node, []).append(f"{app} {d.name}")
        return out

    async def list(self, user: User) -> list[dict[str, Any]]:
        _admin(user, "list the nodes")
        sched = self.supervisor.scheduler
        if not isinstance(sched, SwarmScheduler):
            here = socket.gethostname()
            return [local_node(tuple(self._dynos_by_node(here).get(here, []))).as_json()]
        try:
            found = await sched.nodes()
        except SwarmError as exc:
            raise PlatformError("unavailable", f"the swarm's nodes could not be read: {exc}", 503, "node") from None
        by_node = self._dynos_by_node("")
        return [Node(n.id, n.hostname, n.state, n.availability, n.role, n.addr, n.memory_total, n.memory_reserved,
                     tuple(by_node.get(n.hostname, []))).as_json() for n in found]

    async def drain(self, user: User, name: object) -> dict[str, Any]:
        _admin(user, "drain a node")
        sched = self._swarm("drain")
        try:
            node, moved = await sched.drain(_node_name(name))
        except SwarmError as exc:
            raise self._error(exc) from None
        return {**node.as_json(), "availability": "drain", "moved": moved}

    async def activate(self, user: User, name: object) -> dict[str, Any]:
        _admin(user, "activate a node")
        sched = self._swarm("activate")
        try:
            node = await sched.activate(_node_name(name))
        except SwarmError as exc:
            raise self._error(exc) from None
        return {**node.as_json(), "availability": "active"}

    @staticmethod
    def _error(exc: SwarmError) -> PlatformError:
        msg = str(exc)
        if msg.startswith("there is no node"):
            return PlatformError("not_found", msg, 404, "node")
        if "last active node" in msg:
            return PlatformError("invalid_params", msg, 422, "node")
        return PlatformError("unavailable", f"the swarm refused: {msg}", 503, "node")
