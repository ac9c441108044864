"""HOIST_SCHEDULER=swarm against the local scheduler, in one run, on a local swarm (scripts/local-swarm):

1. code-only redeploy, push to serving: a swarm hoist and a local hoist, alternating round by round (medians);
2. image build: the base from this host's files cold (imported) and warm (its key found), and the slug layer;
3. router overhead per node: a GET through hoist's router (which connects to the task itself) against the same GET sent
   straight to the task's node address and published port, per node the answer came from (node 1 is the
   manager, where hoist runs on a real cluster).

Run as root: python bench/swarm.py [--rounds 3] [--requests 300] [--prefix hbench]. Prints its figures."""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cluster.common import docker, exports, files, local_swarm, services  # noqa: E402
from tests.e2e.conftest import remove_app_users  # noqa: E402
from tests.e2e.harness import HoistServer, commit_files, make_repo  # noqa: E402


def med(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f}" if xs else "-"


def serve_time(server: HoistServer, repo: Path, app: str, marker: str) -> float:
    t0 = time.monotonic()
    server.push(repo)
    server.wait_for(app, marker, timeout=180)
    return time.monotonic() - t0


def redeploys(work: Path, env: dict[str, str], rounds: int) -> tuple[HoistServer, Path]:
    servers = {}
    for label, extra in (("swarm", env), ("local", {})):
        srv = HoistServer(home=work / label / "home", user_home=work / label / "user",
                          extra_env={**extra, "HOIST_BOOT_TIMEOUT": "120", "HOIST_STOP_GRACE": "3"})
        srv.start(timeout=120)
        srv.cli("login")
        app = f"bench{label}{os.getpid() % 10000}"
        repo = make_repo(work / label / app, files(f"{label}-0"), srv.env())
        srv.cli("apps:create", app, cwd=repo)
        t = serve_time(srv, repo, app, f"{label}-0 web.1")
        print(f"first push to serving, {label}: {t:.1f}s" + (" (cold base image, push, pulls)" if label == "swarm" else ""))
        servers[label] = (srv, repo, app)
    times: dict[str, list[float]] = {"swarm": [], "local": []}
    for i in range(1, rounds + 1):
        for label, (srv, repo, app) in servers.items():
            commit_files(repo, files(f"{label}-{i}"), srv.env(), f"round {i}")
            times[label].append(serve_time(srv, repo, app, f"{label}-{i} web."))
    print(f"\ncode-only redeploy, push to serving, median of {rounds} (s): swarm {med(times['swarm'])}, "
          f"local {med(times['local'])}, ratio {statistics.median(times['swarm']) / statistics.median(times['local']):.2f}")
    print("  rounds: " + "; ".join(f"{k} " + ", ".join(f"{t:.1f}" for t in v) for k, v in times.items()))
    servers["local"][0].stop()
    return servers["swarm"][0], servers["swarm"][1]


def image_builds(env: dict[str, str]) -> None:
    os.environ.update(env)  # images.py reads DOCKER_HOST and the client from the environment
    from hoist.dynos.swarm import images
    python = Path(sys.base_prefix)
    cold = images.build_base([python], tag=f"hoist/bench-base:{os.getpid()}")
    warm = images.build_base([python], tag=cold["tag"])
    slug = []
    for i in range(3):
        with tempfile.TemporaryDirectory() as d:  # new content each time: the builder's cache cannot answer
            (Path(d) / "app.py").write_text(f"print('hello {i} {time.time()}')\n")
            slug.append(images.build_app(cold["tag"], f"{env['HOIST_SWARM_REGISTRY']}/bench/slug:{i}",
                                         [(Path(d), "/app")])["seconds"])
    print(f"\nbase image from this host's files: cold {cold['seconds']:.1f}s ({cold.get('files')} files, "
          f"{cold.get('bytes', 0) / 1e6:.0f} MB), warm {warm['seconds']:.2f}s (key found); "
          f"slug layer (small app) median {med(slug)}s")


def overhead(server: HoistServer, repo: Path, env: dict[str, str], n: int) -> None:
    app = repo.name
    server.cli("ps:scale", "web=3", cwd=repo)
    deadline = time.monotonic() + 120
    while server.cli("ps", cwd=repo).stdout.count(": up ") < 3 and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(3)
    tasks = {}  # node -> (address, published port) of a task there
    for tid in docker(env, "service", "ps", "-q", "--filter", "desired-state=running", *services(env, app)).split():
        out = docker(env, "inspect", "--format",
                     "{{.NodeID}} {{(index .Status.PortStatus.Ports 0).PublishedPort}}", tid).split()
        if len(out) == 2:
            host, addr = docker(env, "node", "inspect", "--format", "{{.Description.Hostname}} {{.Status.Addr}}",
                                out[0]).split()
            tasks[host] = (addr, int(out[1]))
    routed: dict[str, list[float]] = {}
    direct: dict[str, list[float]] = {}
    with httpx.Client() as c:
        for _ in range(n):  # paired: each routed request, then the same GET straight to the task that answered
            t0 = time.perf_counter()
            r = c.get(f"http://127.0.0.1:{server.port}/", headers={"Host": f"{app}.localhost"})
            dt = time.perf_counter() - t0
            m = re.search(r" on (\S+)", r.text)
            if r.status_code != 200 or not m or m.group(1) not in tasks:
                continue
            node = m.group(1)
            addr, port = tasks[node]
            t0 = time.perf_counter()
            c.get(f"http://{addr}:{port}/")
            direct.setdefault(node, []).append((time.perf_counter() - t0) * 1000)
            routed.setdefault(node, []).append(dt * 1000)
    print(f"\nGET latency per node (ms, median; keep-alive client; {n} routed requests):")
    print(f"{'node':<10} {'router':>8} {'direct':>8} {'overhead':>9}")
    for node in sorted(set(routed) | set(direct)):
        r_, d_ = routed.get(node, []), direct.get(node, [])
        extra = f"{statistics.median(r_) - statistics.median(d_):.2f}" if r_ and d_ else "-"
        print(f"{node:<10} {med(r_):>8} {med(d_):>8} {extra:>9}" + ("  (the manager's node)" if node.endswith("n1") else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--prefix", default="hbench")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-swarm-"))
    work.chmod(0o711)
    t0 = time.monotonic()
    env = exports(local_swarm(args.prefix, "up", "3"))
    print(f"local-swarm up 3: {time.monotonic() - t0:.1f}s")
    server = None
    try:
        server, repo = redeploys(work, env, args.rounds)
        image_builds(env)
        overhead(server, repo, env, args.requests)
    finally:
        if server is not None and server.proc and server.proc.poll() is None:
            server.stop()
        local_swarm(args.prefix, "down")
        remove_app_users(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
