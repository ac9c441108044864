"""Benchmark: a constant request rate on an app with web=2 across consecutive
deploys and kill -9 of a web dyno; prints failed requests and latency percentiles.

Run: /work/venv/bin/python bench/zero_downtime.py [--rate 50] [--deploys 10] [--kills 5]
Starts a real hoist server in a temp home, pushes examples/hello, all on 127.0.0.1.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.e2e.harness import HoistServer, example_files, make_repo  # noqa: E402
from tests.e2e.procs import dyno_groups  # noqa: E402


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[tuple[float, float, str | None]] = []  # (start, latency, error)

    def add(self, start: float, latency: float, error: str | None) -> None:
        with self.lock:
            self.samples.append((start, latency, error))


def load(server: HoistServer, app: str, rate: float, stop: threading.Event, rec: Recorder) -> None:
    """Open-loop load: one request every 1/rate s, whatever the previous ones do."""
    client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=64))
    url = f"http://127.0.0.1:{server.port}/"

    def one() -> None:
        t = time.monotonic()
        try:
            r = client.get(url, headers={"Host": f"{app}.localhost"})
            code = r.text.split("(H", 1)[1][:2] if "(H" in r.text else ""
            rec.add(t, time.monotonic() - t, None if r.status_code == 200 else f"HTTP {r.status_code} H{code}")
        except httpx.HTTPError as exc:
            rec.add(t, time.monotonic() - t, repr(exc))

    with ThreadPoolExecutor(32) as pool:
        next_at = time.monotonic()
        while not stop.is_set():
            pool.submit(one)
            next_at += 1 / rate
            time.sleep(max(0.0, next_at - time.monotonic()))
    client.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--deploys", type=int, default=10)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--gap", type=float, default=3.0, help="seconds between events")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-zd-"))
    work.chmod(0o711)  # per-app users (hoist as root) must pass through to the home
    server = HoistServer(home=work / "home", user_home=work / "user", extra_env={"HOIST_STOP_GRACE": "10"})
    marker = f"HOIST_BENCH_MARKER={uuid.uuid4().hex}"
    try:
        server.start()
        server.cli("login")
        repo = make_repo(work / "app", example_files("hello"), server.env())
        server.cli("apps:create", "zdt", cwd=repo)
        server.cli("config:set", marker, cwd=repo)
        server.push(repo)
        server.cli("ps:scale", "web=2", cwd=repo)
        server.wait_for("zdt", "Hello")
        time.sleep(2)
        rec = Recorder()
        stop = threading.Event()
        t = threading.Thread(target=load, args=(server, "zdt", args.rate, stop, rec))
        t0 = time.monotonic()
        t.start()
        deploy_windows: list[tuple[float, float]] = []
        kill_times: list[float] = []
        deploy_s: list[float] = []
        # Interleave deploys and kills so the kills hit different releases.
        order = [e for pair in zip(["deploy"] * args.deploys, ["kill"] * args.kills + [""] * args.deploys) for e in pair if e]
        for i, event in enumerate(order):
            time.sleep(args.gap)
            if event == "deploy":
                s = time.monotonic()
                r = server.api("PATCH", "/apps/zdt/config-vars", json={"GREETING": f"Hello {i}"})
                assert r.status_code == 200, r.text
                deploy_windows.append((s, time.monotonic()))
                deploy_s.append(time.monotonic() - s)
            else:
                groups = dyno_groups(marker).get("web.1") or dyno_groups(marker).get("web.2")
                if groups:
                    kill_times.append(time.monotonic())
                    os.kill(min(groups), signal.SIGKILL)  # the dyno's gunicorn master
        time.sleep(args.gap)
        stop.set()
        t.join()
        elapsed = time.monotonic() - t0
    finally:
        if server.proc and server.proc.poll() is None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    samples = rec.samples
    lat = sorted(s[1] for s in samples if s[2] is None)
    failed = [s for s in samples if s[2] is not None]

    def near_kill(start: float) -> bool:
        return any(k - 1.0 <= start <= k + 2.0 for k in kill_times)

    def in_deploy(start: float) -> bool:
        return any(a - 0.5 <= start <= b + 1.0 for a, b in deploy_windows)

    fails_kill = [s for s in failed if near_kill(s[0])]
    fails_deploy = [s for s in failed if in_deploy(s[0]) and not near_kill(s[0])]
    other = [s for s in failed if s not in fails_kill and s not in fails_deploy]
    q = statistics.quantiles(lat, n=100) if len(lat) > 100 else [0.0] * 99
    print(f"requests: {len(samples)} in {elapsed:.0f} s ({len(samples) / elapsed:.1f}/s), "
          f"{len(deploy_windows)} deploys (median {statistics.median(deploy_s):.2f} s each), {len(kill_times)} kill -9")
    print(f"failed: {len(failed)} total; {len(fails_deploy)} during deploys; {len(fails_kill)} around kill -9; "
          f"{len(other)} other")
    for s in failed[:10]:
        print(f"  +{s[0] - t0:6.2f}s {s[2]}")
    print(f"latency ms: p50 {q[49] * 1000:.1f}  p90 {q[89] * 1000:.1f}  p99 {q[98] * 1000:.1f}  max {lat[-1] * 1000:.1f}")
    return 0 if not fails_deploy else 1


if __name__ == "__main__":
    sys.exit(main())
