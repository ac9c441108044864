"""Restarting hoist under load, and what a dyno costs at rest: this hoist against an older one (by default
the commit before containment), side by side in one run.

1. kill -9 of `hoist server` and a new start, under RATE req/s to each of three apps (one DB-backed: the
   data-entry tutorial on heroku-postgresql): failed requests, and how long the new hoist takes to be
   ready (adopting what runs; the older hoist stops and restarts every dyno).
2. Memory per idle dyno (examples/hello: gunicorn with 2 workers): RSS and PSS summed over the dyno's
   processes, plus (this hoist) the dyno's shim.

Run as root (per-app users, cgroups): python bench/restart.py [--baseline main] [--rate 20] [--seconds 8]
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.baseline import describe, worktree  # noqa: E402
from tests.e2e.conftest import remove_app_users  # noqa: E402
from tests.e2e.contained import marked  # noqa: E402
from tests.e2e.harness import HoistServer, example_files, make_repo  # noqa: E402

PLAIN = {"requirements.txt": "", ".python-version": "3.12\n", "Procfile": "web: python -m http.server $PORT\n"}


class TimedServer(HoistServer):
    """A test server that notes when each line of its start arrived (`watch`), to split a start in phases."""

    marks: dict[str, float] = {}
    ready_at = 0.0


def watch(server: TimedServer) -> None:
    """Note when each line of the current start arrives (polls the harness's list of lines)."""
    seen = 0
    server.marks = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lines = server.output
        for line in lines[seen:]:
            server.marks.setdefault(line[:40], time.monotonic())
            if line.strip() == "hoist: ready":
                server.ready_at = time.monotonic()
                return
        seen = len(lines)
        time.sleep(0.005)


def steady(server: HoistServer, app: str, rate: float, stop: threading.Event, out: list[tuple[float, str | None]]) -> None:
    """RATE requests a second on a fixed schedule (a slow answer does not slow the schedule down much)."""
    period, nxt = 1.0 / rate, time.monotonic()
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            nxt += period
            t = time.monotonic()
            try:
                r = client.get(f"http://127.0.0.1:{server.port}/", headers={"Host": f"{app}.localhost"})
                out.append((t, None if r.status_code == 200 else f"HTTP {r.status_code}"))
            except httpx.HTTPError as exc:
                out.append((t, type(exc).__name__))
            time.sleep(max(0.0, nxt - time.monotonic()))


def restart_under_load(server: HoistServer, apps: list[str], rate: float, seconds: float) -> dict[str, object]:
    stop = threading.Event()
    results: dict[str, list[tuple[float, str | None]]] = {a: [] for a in apps}
    threads = [threading.Thread(target=steady, args=(server, a, rate, stop, results[a])) for a in apps]
    for t in threads:
        t.start()
    time.sleep(seconds / 2)
    killed = time.monotonic()
    server.stop(signal.SIGKILL)
    began = time.monotonic()
    assert isinstance(server, TimedServer)
    server.output = []
    watcher = threading.Thread(target=watch, args=(server,))
    watcher.start()
    server.start(timeout=120)
    watcher.join()
    ready = time.monotonic() - began
    contained = [k for k in server.marks if k.startswith("hoist: dynos are")]
    adopt = server.ready_at - server.marks[contained[0]] if contained else float("nan")
    time.sleep(seconds / 2)
    stop.set()
    for t in threads:
        t.join()
    failed = {a: [e for _, e in r if e] for a, r in results.items()}
    first_ok_after = {}
    for a, r in results.items():
        bad = [t for t, e in r if e and t >= killed]
        first_ok_after[a] = (max(bad) - killed) if bad else 0.0
    return {"requests": sum(len(r) for r in results.values()), "failed": sum(len(f) for f in failed.values()),
            "per_app": {a: len(f) for a, f in failed.items()}, "ready_s": ready, "adopt_s": adopt,
            "outage_s": max(first_ok_after.values()), "kinds": sorted({e for f in failed.values() for e in f})}


def memory(pids: list[int]) -> tuple[int, int]:
    """(RSS, PSS) in kB summed over `pids`."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def idle_dyno(server: HoistServer, app: str, marker: str) -> dict[str, tuple[int, int]]:
    """Memory of the app's one web dyno: its processes, and the shim that is its main process's parent."""
    pids = sorted(marked(marker))
    leader = min(pids)
    parent = int(Path(f"/proc/{leader}/stat").read_text().rsplit(")", 1)[1].split()[1])
    cmd = Path(f"/proc/{parent}/cmdline").read_bytes()
    shim = [parent] if b"shim.py" in cmd else []
    return {"dyno": memory(pids), "shim": memory(shim)}


def setup(server: HoistServer, work: Path, tag: str, marker: str) -> list[str]:
    server.start(timeout=120)
    server.cli("login")
    apps = [f"{tag}-rows", f"{tag}-plain", f"{tag}-hello"]
    rows = make_repo(work / apps[0], example_files("dataentry"), server.env())
    server.cli("apps:create", apps[0], cwd=rows)
    server.cli("addons:create", "heroku-postgresql", "-a", apps[0])
    server.push(rows)
    plain = make_repo(work / apps[1], PLAIN, server.env())
    server.cli("apps:create", apps[1], cwd=plain)
    server.push(plain)
    hello = make_repo(work / apps[2], example_files("hello"), server.env())
    server.cli("apps:create", apps[2], cwd=hello)
    server.cli("config:set", marker, "-a", apps[2])
    server.push(hello)
    for app in apps:
        server.wait_for(app, "" if app != apps[1] else "Directory listing", timeout=120)
    return apps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default="main", help="git ref of the hoist to compare with (before containment)")
    ap.add_argument("--rate", type=float, default=20.0, help="requests per second to each app")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each load run")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-restart-"))
    work.chmod(0o711)
    rows: dict[str, dict[str, object]] = {}
    with worktree(args.baseline) as old_src:
        for label, src in ((f"before ({describe(args.baseline)})", old_src), ("after (this hoist)", None)):
            tag = "old" if src is not None else "new"
            marker = f"HOIST_BENCH={uuid.uuid4().hex}"
            server = TimedServer(home=work / tag / "home", user_home=work / tag / "user",
                                 extra_env={"PYTHONPATH": str(src)} if src is not None else {})
            try:
                apps = setup(server, work / tag, tag, marker)
                time.sleep(3)  # idle
                mem = idle_dyno(server, apps[2], marker)
                runs = [restart_under_load(server, apps, args.rate, args.seconds) for _ in range(args.rounds)]
                rows[label] = {"mem": mem, "runs": runs}
            finally:
                if server.proc and server.proc.poll() is None:
                    server.stop()
                remove_app_users(work / tag)
    shutil.rmtree(work, ignore_errors=True)
    print(f"kill -9 of hoist and a new start, {args.rate:g} req/s to each of 3 apps (one on Postgres), "
          f"{args.seconds:g} s per run, {args.rounds} runs")
    print(f"{'hoist':48} {'requests':>9} {'failed':>7} {'ready s':>8} {'adopt s':>8} {'outage s':>9}  failures")
    for label, row in rows.items():
        runs = row["runs"]
        assert isinstance(runs, list)
        req = sum(r["requests"] for r in runs)
        failed = sum(r["failed"] for r in runs)
        ready = statistics.median(r["ready_s"] for r in runs)
        adopt = statistics.median(r["adopt_s"] for r in runs)
        outage = statistics.median(r["outage_s"] for r in runs)
        kinds = sorted({k for r in runs for k in r["kinds"]})
        print(f"{label[:48]:48} {req:9d} {failed:7d} {ready:8.2f} {adopt:8.2f} {outage:9.2f}  {', '.join(kinds)[:60]}")
    print("ready: from the kill to `hoist: ready` (most of it is Python importing hoist); adopt: from the start's "
          "containment line (after imports and the per-app users) to ready; outage: the last failed request")
    print("memory per idle dyno (examples/hello: gunicorn, 2 workers), kB")
    print(f"{'hoist':48} {'dyno RSS':>9} {'dyno PSS':>9} {'shim RSS':>9} {'shim PSS':>9} {'total PSS':>10}")
    for label, row in rows.items():
        mem = row["mem"]
        assert isinstance(mem, dict)
        (drss, dpss), (srss, spss) = mem["dyno"], mem["shim"]
        print(f"{label[:48]:48} {drss:9d} {dpss:9d} {srss:9d} {spss:9d} {dpss + spss:10d}")


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root: per-app users and cgroups")
    main()
