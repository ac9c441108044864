"""`hoist nodes` parsing: `docker node inspect` and task JSON as dockerd 20.10 writes them, pure."""
from __future__ import annotations

from hoist.dynos.swarm.drain import last_active
from hoist.dynos.swarm.nodes import Node, find, local_node, parse_node, reserved_by_node

LEADER = {
    "ID": "kt3d0uosc6bw8r19rzb1g4get",
    "Spec": {"Labels": {}, "Role": "manager", "Availability": "active"},
    "Description": {"Hostname": "hnod-n1", "Resources": {"NanoCPUs": 2000000000, "MemoryBytes": 25275973632}},
    "Status": {"State": "ready", "Addr": "0.0.0.0"},
    "ManagerStatus": {"Leader": True, "Reachability": "reachable", "Addr": "10.161.0.11:2377"},
}
WORKER = {
    "ID": "s3g2w7h2eymowyio5y9ack40g",
    "Spec": {"Role": "worker", "Availability": "drain"},
    "Description": {"Hostname": "hnod-n2", "Resources": {"MemoryBytes": 1 << 30}},
    "Status": {"State": "down", "Addr": "10.161.0.12"},
}


def test_a_leader_with_its_address_from_its_raft_address_and_a_drained_worker() -> None:
    n1, n2 = parse_node(LEADER), parse_node(WORKER)
    assert (n1.hostname, n1.state, n1.availability, n1.role, n1.addr) == ("hnod-n1", "ready", "active", "leader",
                                                                        "10.161.0.11")
    assert n1.memory_total == 25275973632 and n1.memory_free == n1.memory_total
    assert (n2.role, n2.availability, n2.state, n2.addr) == ("worker", "drain", "down", "10.161.0.12")
    follower = parse_node({**LEADER, "ManagerStatus": {"Leader": False, "Addr": "10.161.0.13:2377"}})
    assert follower.role == "manager" and follower.addr == "10.161.0.13"


def test_memory_reserved_counts_only_tasks_meant_to_run() -> None:
    tasks = [
        {"NodeID": "a", "DesiredState": "running", "Spec": {"Resources": {"Reservations": {"MemoryBytes": 512 << 20}}}},
        {"NodeID": "a", "DesiredState": "running", "Spec": {"Resources": {"Reservations": {"MemoryBytes": 256 << 20}}}},
        {"NodeID": "a", "DesiredState": "shutdown", "Spec": {"Resources": {"Reservations": {"MemoryBytes": 1 << 30}}}},
        {"NodeID": "b", "DesiredState": "running", "Spec": {"Resources": {}}},
        {"DesiredState": "running", "Spec": {}},  # not placed yet
    ]
    assert reserved_by_node(tasks) == {"a": 768 << 20, "b": 0}
    node = Node("a", "n", "ready", "active", "worker", "10.0.0.2", 1 << 30, 768 << 20, ("app web.1",))
    assert node.memory_free == 256 << 20
    assert node.as_json()["memory"] == {"total": 1 << 30, "reserved": 768 << 20, "free": 256 << 20}
    assert node.as_json()["dynos"] == ["app web.1"] and node.as_json()["address"] == "10.0.0.2"


def test_a_node_is_found_by_hostname_id_or_unique_id_prefix() -> None:
    nodes = [parse_node(LEADER), parse_node(WORKER), parse_node({**WORKER, "ID": "s3zzz", "Description": {
        "Hostname": "hnod-n3"}})]
    assert find(nodes, "hnod-n2") is nodes[1]
    assert find(nodes, "kt3d") is nodes[0]
    assert find(nodes, "s3") is None  # two ids start with it
    assert find(nodes, "hnod-n9") is None and find(nodes, "") is None


def test_the_last_active_ready_node_cannot_be_drained() -> None:
    n1, n2 = parse_node(LEADER), parse_node(WORKER)  # n2 is drained and down
    assert last_active(n1, [n1, n2])
    n3 = parse_node({**WORKER, "ID": "c", "Spec": {"Role": "worker", "Availability": "active"},
                     "Status": {"State": "ready", "Addr": "10.161.0.13"}})
    assert not last_active(n1, [n1, n2, n3]) and last_active(n3, [n1.__class__(**{**n1.__dict__, "availability": "pause"}), n3])


def test_the_local_scheduler_is_one_node_this_machine() -> None:
    n = local_node(("app web.1",))
    assert n.role == "leader" and n.addr == "127.0.0.1" and n.memory_total > n.memory_free >= 0 and n.dynos == ("app web.1",)
