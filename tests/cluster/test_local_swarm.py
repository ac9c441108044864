"""A 3-node Docker Swarm on this machine (scripts/local-swarm): images built from local files
(scripts/swarm_images.py), pushed to the registry on the manager, run as a 3-replica service
spread over the nodes; each replica answers over its node's veth address; a node crashes and
the service converges on the others within 30 s; `down` leaves nothing behind, also after an
`up` that was killed half-way. Root only (namespaces, dockerd); timings are printed."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.cluster.common import DOCKER, REQUIRES, ROOT, SCRIPT
pytestmark = REQUIRES

APP = '''import os, socket
def app(environ, start_response):
    body = f"{os.environ.get('HOIST_NODE', '?')} {socket.gethostname()} {os.getuid()}\\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''
SERVICE = "web"


def images_module():
    spec = importlib.util.spec_from_file_location("swarm_images", ROOT / "scripts" / "swarm_images.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def local_swarm(prefix: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([sys.executable, str(SCRIPT), *args, "--prefix", prefix], capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, f"local-swarm {' '.join(args)}: {res.stderr[-2000:]}"
    return res


def parse_exports(text: str) -> dict[str, str]:
    return dict(m.groups() for m in re.finditer(r"^export (\w+)=(.*)$", text, re.MULTILINE))


def docker(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    res = subprocess.run([DOCKER, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"docker {' '.join(args)}: {res.stderr[-1500:]}"
    return res.stdout


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode()
    except (OSError, urllib.error.URLError):
        return None


def running_tasks(env: dict[str, str], nodes: dict[str, tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(node hostname, node address, published port) of each task that is running now."""
    ids = docker(env, "service", "ps", "-q", "--filter", "desired-state=running", SERVICE).split()
    tasks = json.loads(docker(env, "inspect", *ids)) if ids else []
    out = []
    for t in tasks:
        ports = (t["Status"].get("PortStatus") or {}).get("Ports") or []
        if t["Status"]["State"] == "running" and ports and t["NodeID"] in nodes:
            host, addr = nodes[t["NodeID"]]
            out.append((host, addr, ports[0]["PublishedPort"]))
    return out


def all_answer(tasks: list[tuple[str, str, int]]) -> bool:
    """Every task answers from the root namespace over its node's veth address, naming that node."""
    return all((get(f"http://{addr}:{port}/") or "").startswith(host + " ") for host, addr, port in tasks)


def wait(what: str, cond, timeout: float) -> float:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.5)
    return time.monotonic() - t0


def leftovers(prefix: str, state_dir: Path) -> list[str]:
    left = [f"netns {ns}" for ns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
            if ns.startswith(prefix + "-")]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    left += [f"link {n}" for n in re.findall(r"^\d+: ([^:@]+)", links, re.MULTILINE) if n.startswith(prefix + "-")]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(state_dir).encode() in cmdline.read_bytes():
                left.append(f"process {cmdline.parent.name}")
        except OSError:
            pass
    left += [f"mount {line.split()[4]}" for line in Path("/proc/self/mountinfo").read_text().splitlines()
             if line.split()[4].startswith(str(state_dir))]
    left += [f"cgroup {c}" for c in Path("/sys/fs/cgroup").glob(f"*/{prefix}")]
    left += [f"state {state_dir}"] if state_dir.exists() else []
    return left


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """A gunicorn app and a virtualenv made on the host with uv, as hoist's builder makes them."""
    from uv import find_uv_bin
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text(APP)
    python = os.path.realpath(sys.executable)  # the interpreter behind this venv, e.g. a pyenv one
    venv = tmp_path / "venv"
    uv = find_uv_bin()
    subprocess.run([uv, "venv", "-q", "--relocatable", "--no-config", "--python", python, str(venv)], check=True)
    subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "gunicorn"], check=True,
                   timeout=300)
    return tmp_path


def test_three_nodes_build_push_spread_crash_converge_down(app_dir: Path, capsys, monkeypatch) -> None:
    prefix = f"t{os.getpid() % 100000}"
    times: dict[str, float] = {}
    state_dir = Path(os.environ.get("LOCAL_SWARM_STATE", "/var/lib/hoist-local-swarm")) / prefix
    env: dict[str, str] = {}
    try:
        t = time.monotonic()
        env = parse_exports(local_swarm(prefix, "up", "3").stdout)
        times["up 3 nodes"] = time.monotonic() - t
        state = json.loads(local_swarm(prefix, "status", "--json").stdout)
        assert env["HOIST_SCHEDULER"] == "swarm" and env["DOCKER_HOST"].startswith("unix://")
        again = subprocess.run([sys.executable, str(SCRIPT), "up", "3", "--prefix", prefix], capture_output=True,
                               text=True, timeout=60, check=False)
        assert again.returncode == 0 and again.stderr.count("already running") == 3, again.stderr
        nodes = {}
        for line in docker(env, "node", "ls", "-q").split():
            host, addr, ready = docker(env, "node", "inspect", line, "--format",
                                       "{{.Description.Hostname}} {{.Status.Addr}} {{.Status.State}}").split()
            assert ready == "ready", host
            nodes[line] = (host, addr)
        assert sorted(h for h, _ in nodes.values()) == [f"{prefix}-n{i}" for i in (1, 2, 3)]

        # Registry: TLS with the CA `up` made, and no anonymous access.
        registry, ca = env["HOIST_SWARM_REGISTRY"], env["HOIST_SWARM_REGISTRY_CA"]
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"https://{registry}/v2/", context=ssl.create_default_context(cafile=ca), timeout=5)
        assert denied.value.code == 401

        # Images: base from this host's files (cold, then warm), slug layer on top, push, pull elsewhere.
        images = images_module()
        for k in ("DOCKER_HOST", "DOCKER_CONFIG"):  # the engine and login swarm_images' docker uses
            monkeypatch.setenv(k, env[k])
        prefix_py = Path(os.path.realpath(sys.executable)).parent.parent
        assert os.readlink(app_dir / "venv" / "bin" / "python").startswith(str(prefix_py))
        base = images.build_base([prefix_py], tag=f"hoist/base:{prefix}")
        times["base image, cold"] = base["seconds"]
        warm = images.build_base([prefix_py], tag=f"hoist/base:{prefix}")
        assert warm["cold"] is False
        times["base image, warm"] = warm["seconds"]
        image = f"{registry}/test/{prefix}:v1"
        built = images.build_app(base["tag"], image, [(app_dir / "src", "/app"), (app_dir / "venv", "/app/.venv")],
                                 env={"PORT": "8000"}, labels={"hoist.app": "test"})
        times["slug layer build"] = built["seconds"]
        times["push (base + slug)"] = images.push(image)
        node2 = f"unix://{state['nodes'][1]['socket']}"
        t = time.monotonic()
        docker({**env, "DOCKER_HOST": node2}, "pull", "-q", image)
        times["pull on node 2 (base + slug)"] = time.monotonic() - t

        # A service of 3 replicas, spread over the 3 nodes, each answering on its node's address.
        t = time.monotonic()
        docker(env, "service", "create", "-q", "--detach", "--name", SERVICE, "--replicas", "3", "--with-registry-auth",
               "--publish", "mode=host,target=8000", "--env", "HOIST_NODE={{.Node.Hostname}}",
               "--stop-grace-period", "5s", image, "/app/.venv/bin/gunicorn", "-b", "0.0.0.0:8000", "app:app")
        wait("3 replicas answering", lambda: len(ts := running_tasks(env, nodes)) == 3 and all_answer(ts), 90)
        times["service: 3 replicas answering"] = time.monotonic() - t
        tasks = running_tasks(env, nodes)
        assert sorted(h for h, _, _ in tasks) == [f"{prefix}-n{i}" for i in (1, 2, 3)], tasks
        host, addr, port = tasks[0]
        assert get(f"http://{addr}:{port}/").split()[2] == "1000"  # runs as the image's dyno user

        # A code-only change: only the slug layer is built, pushed and pulled; a start-first rolling update.
        (app_dir / "src" / "app.py").write_text(APP.replace("os.getuid()}", "os.getuid()} v2"))
        image2 = f"{registry}/test/{prefix}:v2"
        times["slug layer build, v2"] = images.build_app(base["tag"], image2, [(app_dir / "src", "/app"),
                                                          (app_dir / "venv", "/app/.venv")])["seconds"]
        times["push v2 (slug layer only)"] = images.push(image2)
        t = time.monotonic()
        docker({**env, "DOCKER_HOST": node2}, "pull", "-q", image2)
        times["pull v2 on node 2 (slug only)"] = time.monotonic() - t
        t = time.monotonic()
        docker(env, "service", "update", "-q", "--detach", "--with-registry-auth", "--image", image2,
               "--update-order", "start-first", "--update-parallelism", "1", SERVICE)
        wait("v2 on 3 replicas", lambda: len(ts := running_tasks(env, nodes)) == 3 and all(
            (get(f"http://{a}:{p}/") or "").strip().endswith(" v2") for _, a, p in ts), 90)
        times["rolling update to v2, 3 replicas"] = time.monotonic() - t

        # Node 3 crashes (dockerd, containerd, shims and containers at once): converge on 1 and 2.
        t = time.monotonic()
        local_swarm(prefix, "kill", "3")
        survivors = {f"{prefix}-n1", f"{prefix}-n2"}
        converged = wait("3 replicas on the 2 surviving nodes", lambda: len(ts := running_tasks(env, nodes)) == 3
                         and {h for h, _, _ in ts} <= survivors and all_answer(ts), 30)
        times["converged after node 3 crashed"] = converged
        # `up` again revives node 3, which rejoins the swarm.
        local_swarm(prefix, "up", "3")
        n3 = next(i for i, (h, _) in nodes.items() if h == f"{prefix}-n3")
        wait("node 3 ready again", lambda: docker(env, "node", "inspect", n3, "--format", "{{.Status.State}}").strip() == "ready", 30)
    finally:
        t = time.monotonic()
        local_swarm(prefix, "down")
        times["down"] = time.monotonic() - t
        with capsys.disabled():
            print("\nlocal swarm timings:\n" + "".join(f"  {k:<34} {v:6.1f} s\n" for k, v in times.items()))
    assert leftovers(prefix, state_dir) == []
    assert not (Path("/etc/docker/certs.d") / env.get("HOIST_SWARM_REGISTRY", "-")).exists()


def test_down_after_an_up_killed_half_way() -> None:
    prefix = f"p{os.getpid() % 100000}"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "up", "2", "--prefix", prefix],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_dir = Path(os.environ.get("LOCAL_SWARM_STATE", "/var/lib/hoist-local-swarm")) / prefix
    try:
        wait("a dockerd started", lambda: (state_dir / "n2" / "dockerd.pid").exists() or proc.poll() is not None, 60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert Path("/run/netns", f"{prefix}-n1").exists()
    local_swarm(prefix, "down")
    assert leftovers(prefix, state_dir) == []
    shutil.rmtree(state_dir, ignore_errors=True)
