"""Task errors as `docker service ps --format '{{json .}}'` prints them (lines taken from a real swarm run
by tests/cluster/test_swarm_disk_faults.py): what swarm said about a task it could not run, per slot."""
from __future__ import annotations

import json

from hoist.dynos.swarm.taskerrors import TaskError, parse


def row(name: str, node: str, state: str, error: str, id: str = "t1") -> str:
    return json.dumps({"CurrentState": state, "DesiredState": "Shutdown", "Error": error, "ID": id,
                       "Image": "10.216.0.11:5000/hoist/diskful:032170f3fc2752b1", "Name": name, "Node": node,
                       "Ports": ""})


def test_rejected_and_failed_tasks_with_their_slot_and_node() -> None:
    text = "\n".join([
        row("hoist-diskful-web-550322a4.1", "hflt-n1", "Running 11 seconds ago", "", "a"),
        row("hoist-diskful-web-550322a4.3", "hflt-n3", "Rejected 5 seconds ago",
            '"No such image: 10.216.0.11:5000/hoist/diskful:032170f3fc2752b1@sha256:221e04c6"', "b"),
        row(" \\_ hoist-diskful-web-550322a4.2", "hflt-n2", "Failed 2 minutes ago", "task: non-zero exit (3)", "c"),
        "not json",
        row("hoist-diskful-web-550322a4.x", "hflt-n2", "Failed now", "no slot", "d"),
    ])
    assert parse(text) == [
        TaskError("b", 3, "hflt-n3", "rejected", "No such image: 10.216.0.11:5000/hoist/diskful:032170f3fc2752b1@sha256:221e04c6"),
        TaskError("c", 2, "hflt-n2", "failed", "task: non-zero exit (3)"),
    ]


def test_the_line_names_the_dyno_node_and_what_happens_next() -> None:
    line = TaskError("b", 3, "hflt-n3", "rejected", "No such image: x").line("web.3")
    assert line.startswith("hoist: swarm could not run web.3 on hflt-n3: No such image: x (rejected)")
    assert "another node" in line
    assert "any node" in TaskError("b", 3, "", "pending", "no suitable node").line("web.3")


def test_a_failed_pull_says_where_to_look() -> None:
    line = TaskError("b", 3, "hflt-n3", "rejected", "No such image: 10.0.0.1:5000/hoist/x:1@sha256:ab").line("web.3")
    assert "that node could not pull the image" in line and "full disk" in line
    assert "could not pull" not in TaskError("c", 2, "n2", "failed", "task: non-zero exit (3)").line("web.2")
