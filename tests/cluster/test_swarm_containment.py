"""Containment on the swarm, attacked the way a hostile neighbour would, on a 2-node local swarm: app `spy`'s
one-off dyno (a task on either node) tries every way to app `vault`'s two web dynos, one on each node: each
container's own address and port (the node's bridge), and each task's published port on its node's address
(from the spy's own node: hairpin NAT; from the other node: across the network). Every attempt must fail,
while hoist's router still reaches both dynos at those same published ports, the node itself still reaches
the containers (so the targets were alive), and the spy still reaches hoist's host (its add-ons). Root only."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.cluster.common import DOCKER, REQUIRES, files, state, wait
from tests.e2e.harness import HoistServer, make_repo

PREFIX = "hiso"
NODES = 2

pytestmark = REQUIRES

PROBE = """import json, socket, sys
out = {}
for host, port in json.loads(sys.argv[1]):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, port))
        s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
        out[f"{host}:{port}"] = "open " + s.recv(200).decode(errors="replace").split("\\r\\n")[0]
    except OSError as exc:
        out[f"{host}:{port}"] = "closed " + type(exc).__name__
    finally:
        s.close()
print("PROBE " + json.dumps(out))
"""


def inspect(swarm: dict[str, str], *args: str, host: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    argv = [DOCKER, *(["-H", host] if host else []), "inspect", *args]
    res = subprocess.run(argv, env={**os.environ, **swarm}, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def web_tasks(swarm: dict[str, str], app: str) -> list[dict[str, object]]:
    """Each running web task of the app: its node's name and address, published port, container address."""
    nodes = {n["name"]: n for n in state(PREFIX)["nodes"]}
    names = subprocess.run([DOCKER, "service", "ls", "--filter", f"label=hoist.app={app}", "--format", "{{.Name}}"],
                           env={**os.environ, **swarm}, capture_output=True, text=True, check=True).stdout.split()
    ids = subprocess.run([DOCKER, "service", "ps", "--filter", "desired-state=running", "-q", *names],
                         env={**os.environ, **swarm}, capture_output=True, text=True, check=True).stdout.split()
    out = []
    for task in inspect(swarm, *ids) if ids else []:
        if task["Status"]["State"] != "running":
            continue
        node_name = inspect(swarm, task["NodeID"])[0]["Description"]["Hostname"]
        node = nodes[node_name]
        container = task["Status"]["ContainerStatus"]["ContainerID"]
        nets = inspect(swarm, container, host=f"unix://{node['socket']}")[0]["NetworkSettings"]["Networks"]
        out.append({"node": node_name, "netns": node["netns"], "addr": node["addr"],
                    "port": task["Status"]["PortStatus"]["Ports"][0]["PublishedPort"],
                    "ips": sorted(n["IPAddress"] for n in nets.values() if n.get("IPAddress"))})
    return out


def reachable_from_node(netns: str, host: str, port: int) -> bool:
    """A TCP connect from the node's own namespace (as its dockerd or any process of the node would)."""
    code = f"import socket; socket.create_connection(({host!r}, {port}), timeout=3).close()"
    return subprocess.run(["nsenter", f"--net=/run/netns/{netns}", "--", "python3", "-c", code],
                          capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="module")
def vault(server: HoistServer, swarm: dict[str, str], workdir: Path) -> list[dict[str, object]]:
    repo = make_repo(workdir / "vault", files("VAULT-SECRET"), server.env())
    server.cli("apps:create", "vault", cwd=repo)
    server.push(repo)
    server.cli("ps:scale", "web=2", "-a", "vault")
    wait(lambda: len({t["node"] for t in web_tasks(swarm, "vault")}) == 2, 120, lambda: web_tasks(swarm, "vault"))
    spy = make_repo(workdir / "spy", files("SPY"), server.env())
    server.cli("apps:create", "spy", cwd=spy)
    server.push(spy)
    return web_tasks(swarm, "vault")


def test_a_dyno_reaches_no_other_apps_dyno_on_any_node(server: HoistServer, swarm: dict[str, str],
                                                       vault: list[dict[str, object]]) -> None:
    host = swarm["HOIST_SWARM_HOST_ADDR"]
    targets = [[t["addr"], t["port"]] for t in vault] + [[ip, 5000] for t in vault for ip in t["ips"]]  # type: ignore[attr-defined]
    for t in vault:  # the targets are alive: the node reaches its containers, hoist's host their published ports
        assert all(reachable_from_node(str(t["netns"]), ip, 5000) for ip in t["ips"]), t  # type: ignore[attr-defined]
        with socket.create_connection((str(t["addr"]), int(t["port"])), timeout=5):  # type: ignore[call-overload]
            pass
    for _ in range(2):  # the router still serves both
        assert "VAULT-SECRET" in server.app_get("vault").text
    out = server.cli("run", "--no-tty", "-a", "spy", "bash", "-c", 'echo "NODE $HOIST_NODE"; python -c "$0" "$1"',
                     PROBE, json.dumps(targets + [[host, 1]]), timeout=180).stdout
    node = next(line.split()[1] for line in out.splitlines() if line.startswith("NODE "))
    result = json.loads(next(line[6:] for line in out.splitlines() if line.startswith("PROBE ")))
    print(f"spy on {node}: {result}")
    assert node in {t["node"] for t in vault}  # vault has a dyno on the spy's node and one on the other
    leaked = {k: v for k, v in result.items() if v.startswith("open") and not k.startswith(f"{host}:")}
    assert not leaked, f"from {node}, spy reached vault's dynos: {leaked}"
    # hoist's host answered (refused, port 1): the spy's network works, only the dynos are out of reach
    assert result[f"{host}:1"] == "closed ConnectionRefusedError", result
