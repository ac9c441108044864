"""Swarm dynos' lifecycle and nodes on a 3-node local swarm (scripts/local-swarm), with a real hoist server,
a real push and the real router: `hoist nodes` lists each node with its role, address, memory and dynos;
`ps:restart web.2` replaces only that dyno's task and `ps:restart` every task, with no failed request;
`ps:stop` removes the dyno's service (no unrouted task left); `nodes:drain` under 20 req/s moves the
node's dynos elsewhere with no failed request; a kill -9 of hoist under load loses no request and the
next hoist adopts the same tasks (same task ids, no new service). Root only; timings printed."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cluster.common import DOCKER, REQUIRES, wait
from tests.e2e.harness import HoistServer, Load, example_files, make_repo

PREFIX = "hnod"

pytestmark = REQUIRES

APP_PY = '''import os
from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return f"{os.environ.get('DYNO', '?')} on {os.environ.get('HOIST_NODE', 'here')}\\n"
'''




def docker(swarm: dict[str, str], *args: str) -> str:
    return subprocess.run([DOCKER, *args], env={**os.environ, **swarm}, capture_output=True, text=True,
                          check=True).stdout


def tasks(swarm: dict[str, str]) -> dict[str, tuple[str, str]]:
    """hoist's dyno services now: service name -> (running task id, node)."""
    out: dict[str, tuple[str, str]] = {}
    for name in docker(swarm, "service", "ls", "--filter", "label=hoist.app=busy", "--format", "{{.Name}}").split():
        for line in docker(swarm, "service", "ps", "--no-trunc", "--filter", "desired-state=running", "--format",
                           "{{.ID}} {{.Node}} {{.CurrentState}}", name).splitlines():
            tid, node, state = line.split(" ", 2)
            if state.startswith("Running"):
                out[name] = (tid, node)
    return out


def dyno_of(service: str) -> str:
    m = re.match(r"hoist-busy-web-(\d+)-", service)
    assert m, service
    return f"web.{m.group(1)}"


@pytest.fixture(scope="module")
def app(server: HoistServer, workdir: Path, swarm: dict[str, str]) -> Path:
    f = example_files("hello")
    f["app.py"] = APP_PY
    f["Procfile"] = "web: gunicorn app:app\n"
    repo = make_repo(workdir / "busy", f, server.env())
    server.cli("apps:create", "busy", cwd=repo)
    t0 = time.monotonic()
    server.push(repo)
    server.cli("ps:scale", "web=3", cwd=repo)
    wait(lambda: len(re.findall(r"web\.\d: up .* on hnod-n\d", server.cli("ps", cwd=repo).stdout)) == 3
         and len(tasks(swarm)) == 3, 180, lambda: server.cli("ps", cwd=repo).stdout + "\n".join(server.output[-40:])
         + server.cli("logs", "-n", "60", cwd=repo).stdout)
    print(f"push and web=3 up: {time.monotonic() - t0:.1f}s")
    return repo


def test_nodes_lists_each_node_with_its_dynos(server: HoistServer, app: Path, swarm: dict[str, str]) -> None:
    out = server.cli("nodes").stdout
    lines = {m.group(1): m.group(0) for m in re.finditer(r"^(hnod-n\d)  .*$", out, re.MULTILINE)}
    assert sorted(lines) == ["hnod-n1", "hnod-n2", "hnod-n3"], out
    assert re.search(r"hnod-n1  ready  active  leader  10\.\d+\.0\.11  memory \d+ MB free of \d+ MB", out), out
    assert "  worker  " in lines["hnod-n2"] and "  worker  " in lines["hnod-n3"], out
    by_node: dict[str, list[str]] = {}
    for service, (_, node) in tasks(swarm).items():
        by_node.setdefault(node, []).append(f"busy {dyno_of(service)}")
    for node, line in lines.items():
        listed = re.findall(r"busy web\.\d", line.split("dynos: ")[1])
        assert sorted(listed) == sorted(by_node.get(node, [])), (node, line, by_node)
    missing = server.cli("nodes:drain", "hnod-n9", check=False)
    assert missing.returncode != 0 and "no node 'hnod-n9'" in missing.stderr + missing.stdout, missing


def test_ps_restart_one_then_all_and_ps_stop(server: HoistServer, app: Path, swarm: dict[str, str]) -> None:
    before = tasks(swarm)
    web2 = next(s for s in before if dyno_of(s) == "web.2")
    with Load(server, "busy") as load:
        t0 = time.monotonic()
        server.cli("ps:restart", "web.2", cwd=app)
        wait(lambda: tasks(swarm).get(web2, before[web2])[0] != before[web2][0], 60, lambda: tasks(swarm))
        print(f"ps:restart web.2: a new task in {time.monotonic() - t0:.1f}s")
        after_one = tasks(swarm)
        assert {s: t for s, t in after_one.items() if s != web2} == {s: t for s, t in before.items() if s != web2}
        t0 = time.monotonic()
        server.cli("ps:restart", cwd=app)
        wait(lambda: all(t[0] != after_one[s][0] for s, t in tasks(swarm).items()) and len(tasks(swarm)) == 3, 90,
             lambda: tasks(swarm))
        print(f"ps:restart (3 dynos): every task new in {time.monotonic() - t0:.1f}s")
        time.sleep(3)  # the new tasks are routed once they answer; the old ones stop after
    print(f"under load: {load.ok} requests ok, {len(load.failures)} failed")
    assert load.ok > 50 and not load.failures, load.failures[:5]
    assert set(tasks(swarm)) == set(before)  # the same services: restarts are new tasks, not new dynos

    web3 = next(s for s in before if dyno_of(s) == "web.3")
    server.cli("ps:stop", "web.3", cwd=app)
    wait(lambda: web3 not in tasks(swarm) and len(tasks(swarm)) == 3, 90, lambda: tasks(swarm))
    services = docker(swarm, "service", "ls", "--filter", "label=hoist.app=busy", "--format", "{{.Name}}").split()
    assert len(services) == 3 and web3 not in services, services  # its service went; a new web.3 replaced it


def test_drain_under_load_moves_the_dynos_with_no_failed_request(server: HoistServer, app: Path,
                                                                swarm: dict[str, str]) -> None:
    wait(lambda: len(re.findall(r"web\.\d: up", server.cli("ps", cwd=app).stdout)) == 3, 90,
         lambda: server.cli("ps", cwd=app).stdout)
    before = tasks(swarm)
    counts: dict[str, int] = {}
    for _, node in before.values():
        counts[node] = counts.get(node, 0) + 1
    node = max(counts, key=lambda n: counts[n])
    assert len(counts) >= 2, before  # web=3 spread over the nodes: the others keep serving
    with Load(server, "busy") as load:
        t0 = time.monotonic()
        out = server.cli("nodes:drain", node, timeout=300).stdout
        print(f"nodes:drain {node} ({counts[node]} dynos): {time.monotonic() - t0:.1f}s; {out.strip()}")
        time.sleep(2)
    print(f"under load: {load.ok} requests ok, {len(load.failures)} failed")
    assert load.ok > 50 and not load.failures, load.failures[:5]
    after = tasks(swarm)
    assert len(after) == 3 and node not in {n for _, n in after.values()}, after
    ps = server.cli("ps", cwd=app).stdout
    assert len(re.findall(r"web\.\d: up", ps)) == 3 and f"on {node}" not in ps, ps
    line = next(ln for ln in server.cli("nodes").stdout.splitlines() if ln.startswith(node + "  "))
    assert "  drain  " in line and line.endswith("dynos: none"), line
    server.cli("nodes:activate", node)
    assert "  active  " in next(ln for ln in server.cli("nodes").stdout.splitlines() if ln.startswith(node + "  "))


def test_kill_9_under_load_then_the_next_hoist_adopts_the_same_tasks(server: HoistServer, app: Path,
                                                                    swarm: dict[str, str]) -> None:
    before = tasks(swarm)
    with Load(server, "busy") as load:
        time.sleep(1.0)
        server.stop(signal.SIGKILL)
        time.sleep(2.0)  # hoist is down: the router reaches the tasks on their nodes directly
        server.start()
        time.sleep(3.0)
    print(f"kill -9 under load: {load.ok} requests ok, {len(load.failures)} failed")
    assert load.ok > 50 and not load.failures, load.failures[:5]
    assert tasks(swarm) == before  # the same services and tasks: adopted, not started again
    adopted = [int(m.group(1)) for line in server.output if (m := re.search(r"adopted (\d+) dyno", line))]
    assert adopted and adopted[-1] >= 3, server.output[-10:]
    ps = server.cli("ps", cwd=app).stdout
    assert len(re.findall(r"web\.\d: up .* on hnod-n\d", ps)) == 3, ps
    server.cli("ps:restart", "web.1", cwd=app)  # the adopted dynos are the new hoist's to restart
    web1 = next(s for s in before if dyno_of(s) == "web.1")
    wait(lambda: tasks(swarm).get(web1, before[web1])[0] != before[web1][0], 60, lambda: tasks(swarm))


def test_hoist_server_restart_hands_over_the_swarm_dynos(server: HoistServer, app: Path,
                                                         swarm: dict[str, str]) -> None:
    """`hoist server --restart` (an upgrade): the new server adopts the same tasks; no request fails."""
    assert server.proc is not None
    old = server.proc
    wait(lambda: len(tasks(swarm)) == 3, 60, lambda: tasks(swarm))
    before = tasks(swarm)
    with Load(server, "busy") as load:
        new = subprocess.Popen([sys.executable, "-m", "hoist", "server", "--home", str(server.home), "--port",
                                str(server.port), "--tls-port", str(server.tls_port), "--restart"],
                               env=server.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert new.stdout is not None
        lines = []
        for line in new.stdout:
            lines.append(line.rstrip())
            if line.strip() == "hoist: ready":
                break
        assert old.wait(60) == 0
        time.sleep(2)
    print(f"hoist server --restart under load: {load.ok} requests ok, {len(load.failures)} failed")
    assert load.ok > 20 and not load.failures, load.failures[:5]
    assert any(re.search(r"adopted [3-9] dyno", line) for line in lines), lines
    assert tasks(swarm) == before
    new.send_signal(signal.SIGUSR2)  # hand over once more, to the fixture's server
    assert "hoist: handed over" in new.communicate(timeout=60)[0]
    server.start()
    assert tasks(swarm) == before


def services_of(swarm: dict[str, str], app: str) -> set[str]:
    return set(docker(swarm, "service", "ls", "--filter", f"label=hoist.app={app}", "--format", "{{.Name}}").split())


def test_a_renamed_apps_dynos_run_on_are_adopted_under_the_new_name_and_go_with_it(
        server: HoistServer, app: Path, swarm: dict[str, str]) -> None:
    """apps:rename keeps the swarm dynos running; their services' app label follows, so a restarted hoist
    adopts them under the new name and destroying the app removes them."""
    wait(lambda: len(tasks(swarm)) == 3, 60, lambda: tasks(swarm))
    before = tasks(swarm)
    server.cli("apps:rename", "idle", "--app", "busy", cwd=app)
    wait(lambda: services_of(swarm, "idle") == set(before) and not services_of(swarm, "busy"), 60,
         lambda: docker(swarm, "service", "ls"))
    assert server.app_get("idle").status_code == 200
    server.stop(signal.SIGKILL)
    server.start()
    adopted = [int(m.group(1)) for line in server.output if (m := re.search(r"adopted (\d+) dyno", line))]
    assert adopted and adopted[-1] >= 3, server.output[-10:]
    running = {n: t for n in services_of(swarm, "idle") for line in docker(
        swarm, "service", "ps", "--no-trunc", "--filter", "desired-state=running", "--format", "{{.ID}}", n).split()
        for t in [line]}
    assert running == {n: tid for n, (tid, _node) in before.items()}, (running, before)  # the same tasks
    assert server.app_get("idle").status_code == 200
    server.cli("apps:destroy", "idle", "--confirm", "idle", cwd=app)
    wait(lambda: not services_of(swarm, "idle"), 60, lambda: docker(swarm, "service", "ls"))
