"""Why swarm could not run a dyno's task: the error of each rejected or failed task of a service, to be said
once as a line of the dyno it was for. Without it a deploy to a node that cannot pull the image (its disk is
full, the registry is gone) only times out; with it the push report names the node and what swarm said.

`parse` is pure (the lines of `docker service ps --no-trunc --format '{{json .}}'`); `read` asks the manager."""
from __future__ import annotations

import json
from dataclasses import dataclass

from hoist.dynos.swarm.cluster import Cluster, SwarmError


@dataclass(frozen=True)
class TaskError:
    id: str
    slot: int
    node: str
    state: str  # "rejected", "failed", ...
    error: str

    def line(self, dyno: str) -> str:
        hint = ""
        if self.error.startswith("No such image"):  # swarm's words for any failed pull
            hint = (" (that node could not pull the image: its dockerd's log says why; a full disk "
                    "(`docker system df` there) or no way to the registry are the usual causes)")
        return (f"hoist: swarm could not run {dyno} on {self.node or 'any node'}: {self.error} ({self.state}){hint}; "
                "it starts the task again, on another node when one can take it")


def parse(text: str) -> list[TaskError]:
    """The tasks with an error, oldest last as docker lists them; lines that are not a task are skipped."""
    found = []
    for raw in text.splitlines():
        try:
            row = json.loads(raw)
        except ValueError:
            continue
        error = str(row.get("Error") or "").strip().strip('"')
        name = str(row.get("Name") or "").lstrip("\\_ ")
        slot = name.rsplit(".", 1)[-1]
        if not error or not slot.isdigit():
            continue
        state = str(row.get("CurrentState") or "").split(" ", 1)[0].lower()
        found.append(TaskError(str(row.get("ID", "")), int(slot), str(row.get("Node") or ""), state, error))
    return found


async def read(cluster: Cluster, service: str) -> list[TaskError]:
    """The service's task errors now (none when the manager cannot be asked: the next poll asks again)."""
    try:
        out = await cluster.run("service", "ps", "--no-trunc", "--format", "{{json .}}", service, timeout=20)
    except SwarmError:
        return []
    return parse(out)
