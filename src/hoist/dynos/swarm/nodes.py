"""The swarm's nodes as `hoist nodes` shows them: pure parsing of `docker node inspect` and of the memory
the tasks on each node reserve (`docker inspect --type task`), and the one row a local scheduler has."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Node:
    id: str
    hostname: str
    state: str  # ready, down, unknown, disconnected
    availability: str  # active, pause, drain
    role: str  # leader, manager, worker
    addr: str
    memory_total: int  # bytes (Description.Resources.MemoryBytes)
    memory_reserved: int = 0  # bytes the tasks on it reserve (--reserve-memory)
    dynos: tuple[str, ...] = field(default=())  # "APP web.1", this hoist's dynos on the node

    @property
    def memory_free(self) -> int:
        return max(self.memory_total - self.memory_reserved, 0)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "hostname": self.hostname, "state": self.state, "availability": self.availability,
                "role": self.role, "address": self.addr, "dynos": list(self.dynos),
                "memory": {"total": self.memory_total, "reserved": self.memory_reserved, "free": self.memory_free}}


def parse_node(info: dict[str, Any]) -> Node:
    """One element of `docker node inspect`'s JSON (pure). Raises KeyError/TypeError on another shape."""
    spec, desc, status = info.get("Spec") or {}, info.get("Description") or {}, info.get("Status") or {}
    manager = info.get("ManagerStatus") or {}
    role = "leader" if manager.get("Leader") else ("manager" if spec.get("Role") == "manager" else "worker")
    addr = str(status.get("Addr") or "")
    if addr in ("", "0.0.0.0") and manager.get("Addr"):
        addr = str(manager["Addr"]).rpartition(":")[0]  # a manager may report 0.0.0.0: its raft address has it
    return Node(str(info["ID"]), str(desc.get("Hostname", "")), str(status.get("State", "unknown")),
                str(spec.get("Availability", "active")), role, addr,
                int((desc.get("Resources") or {}).get("MemoryBytes") or 0))


def reserved_by_node(tasks: list[dict[str, Any]]) -> dict[str, int]:
    """Memory (bytes) that running tasks reserve, per node id, from `docker inspect --type task` (pure)."""
    out: dict[str, int] = {}
    for t in tasks:
        if (t.get("DesiredState") or "") != "running" or not t.get("NodeID"):
            continue
        res = ((t.get("Spec") or {}).get("Resources") or {}).get("Reservations") or {}
        out[t["NodeID"]] = out.get(t["NodeID"], 0) + int(res.get("MemoryBytes") or 0)
    return out


def local_node(dynos: tuple[str, ...]) -> Node:
    """This machine as the one node of the local scheduler."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    return Node("local", socket.gethostname(), "ready", "active", "leader", "127.0.0.1", total, total - free, dynos)


def find(nodes: list[Node], name: str) -> Node | None:
    """The node called `name` (hostname or id, or a unique id prefix as docker takes it)."""
    exact = [n for n in nodes if name in (n.hostname, n.id)]
    if exact:
        return exact[0]
    prefixed = [n for n in nodes if name and n.id.startswith(name)]
    return prefixed[0] if len(prefixed) == 1 else None
