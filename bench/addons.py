"""Benchmark the tutorial add-ons on a real hoist server: the time from `addons:create rabbitmq-bigwig` to a
URL an AMQP client can use (the first add-on starts the RabbitMQ node; later ones only add a vhost), beside a
Redis add-on (redistogo) for scale; and how late Heroku Scheduler runs start after their due time.

Run: .venv/bin/python bench/addons.py [--later 4] [--runs 6] [--tick 3]
Starts a hoist server in a temp home (everything on 127.0.0.1), prints the figures, cleans up.
"""
from __future__ import annotations

import argparse
import math
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
import pika  # noqa: E402

from tests.e2e.harness import HoistServer, example_files, make_repo  # noqa: E402

_RUN = re.compile(r"^(\S+) (?:app|hoist)\[(scheduler\.\d+)\]: (.*)$")


def usable_after(server: HoistServer, app: str, plan: str, var: str) -> float:
    """Seconds from POST /apps/APP/addons to a first successful connection with the URL it set."""
    started = time.monotonic()
    r = server.api("POST", f"/apps/{app}/addons", json={"plan": plan})
    assert r.status_code == 201, r.text
    url = server.api("GET", f"/apps/{app}/config-vars").json()[var]
    while True:
        try:
            if url.startswith("amqp"):
                pika.BlockingConnection(pika.URLParameters(url + "?connection_attempts=1")).close()
            else:
                import redis
                redis.Redis.from_url(url).ping()
            return time.monotonic() - started
        except Exception:  # noqa: BLE001 - not usable yet
            assert time.monotonic() - started < 180, f"{plan} never became usable"
            time.sleep(0.05)


def scheduler_delays(server: HoistServer, app: str, runs: int, tick: float) -> list[float]:
    """Seconds between each run's due time and the first line its scheduler.N dyno logged (it started)."""
    server.cli("addons:create", "scheduler", "-a", app)
    server.cli("scheduler:add", "true", "--every", "10m", "-a", app)
    deadline = time.monotonic() + runs * tick + 60
    starts: dict[str, float] = {}
    while len(starts) < runs and time.monotonic() < deadline:
        time.sleep(tick)
        for line in server.cli("logs", "-n", "1500", "-d", "scheduler", "-a", app).stdout.splitlines():
            m = _RUN.match(line)
            if m and m.group(2) not in starts:
                starts[m.group(2)] = datetime.fromisoformat(m.group(1)).timestamp()
    return sorted(t - math.floor(t / tick) * tick for t in starts.values())[:runs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--later", type=int, default=4, help="RabbitMQ add-ons after the first")
    ap.add_argument("--runs", type=int, default=6, help="scheduler runs to time")
    ap.add_argument("--tick", type=float, default=3.0, help="HOIST_SCHEDULER_TICK for the scheduler figure")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-addons-"))
    work.chmod(0o711)
    server = HoistServer(home=work / "home", user_home=work / "user",
                         extra_env={"HOIST_SCHEDULER_TICK": str(args.tick)})
    try:
        server.start()
        server.cli("login")
        for i in range(args.later + 2):
            server.cli("apps:create", f"bench-{i}")
        first = usable_after(server, "bench-0", "rabbitmq-bigwig", "RABBITMQ_BIGWIG_URL")
        later = [usable_after(server, f"bench-{i + 1}", "rabbitmq-bigwig", "RABBITMQ_BIGWIG_URL")
                 for i in range(args.later)]
        redis_s = usable_after(server, f"bench-{args.later + 1}", "redistogo", "REDISTOGO_URL")
        print(f"rabbitmq-bigwig, first add-on (starts the node): {first:.2f} s to a usable URL")
        print(f"rabbitmq-bigwig, later add-ons (a vhost each):   median {statistics.median(later):.2f} s, "
              f"max {max(later):.2f} s  ({args.later} add-ons)")
        print(f"redistogo (a Redis server each), for scale:      {redis_s:.2f} s")
        print(f"ratio first/later: {first / statistics.median(later):.1f}x")

        repo = make_repo(work / "app", example_files("hello"), server.env())
        server.cli("apps:create", "cron", cwd=repo)
        server.push(repo)
        delays = scheduler_delays(server, "cron", args.runs, args.tick)
        print(f"scheduler start delay after the due time ({len(delays)} runs, tick {args.tick:g} s): "
              f"median {statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms")
    finally:
        if server.proc and server.proc.poll() is None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
