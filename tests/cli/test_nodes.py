"""`hoist nodes` lines, pure: what the CLI prints for each node the API returns."""
from __future__ import annotations

from hoist.cli.nodes import node_line


def test_a_node_line_names_state_role_address_memory_and_dynos() -> None:
    node = {"id": "x", "hostname": "hsw-n2", "state": "ready", "availability": "active", "role": "worker",
            "address": "10.150.0.12", "dynos": ["notes web.1", "notes worker.1"],
            "memory": {"total": 4 << 30, "reserved": 1 << 30, "free": 3 << 30}}
    assert node_line(node) == ("hsw-n2  ready  active  worker  10.150.0.12  memory 3072 MB free of 4096 MB  "
                               "dynos: notes web.1, notes worker.1")
    assert node_line({**node, "dynos": [], "availability": "drain"}).endswith("  drain  worker  10.150.0.12  "
                                                                             "memory 3072 MB free of 4096 MB  dynos: none")
