"""Benchmark log drains: how many lines per second one drain delivers (syslog+tls://, syslog://, https://, to real
receivers on 127.0.0.1), and how many lines are lost when the receiver is down for 10 s while the app logs
100 lines/s: end to end through a real hoist server (a dyno's lines -> log store -> drain -> a TLS syslog
receiver) with the default buffer, and the drain alone with buffers that do and do not hold the outage.

Run: .venv/bin/python bench/drains.py [--lines 100000] [--down 10] [--rate 100]
Starts what it needs in a temp dir (everything on 127.0.0.1), prints the figures, cleans up.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from hoist.logs.drain import DrainSender  # noqa: E402
from hoist.logs.drain_transport import transport_for  # noqa: E402
from hoist.logs.drain_url import parse_drain_url  # noqa: E402
from hoist.logs.line import LogLine, now_iso  # noqa: E402
from tests.e2e.conftest import remove_app_users  # noqa: E402
from tests.e2e.harness import HoistServer, example_files, make_repo  # noqa: E402
from tests.logs.receivers import HttpsReceiver, SyslogReceiver, make_ca  # noqa: E402

TICKER = """import time
rate = {rate}
start = time.monotonic()
i = 0
while True:
    print(f"tick {{i}}", flush=True)
    i += 1
    time.sleep(max(0.0, start + i / rate - time.monotonic()))
"""


def numbers(texts: list[str], marker: str) -> list[int]:
    return [int(t.rsplit(marker, 1)[1]) for t in texts if marker in t]


def lost(got: list[int]) -> int:
    return (max(got) + 1 - len(set(got))) if got else 0


def throughput(url: str, ca: Path, count: int, received: "callable") -> float:  # type: ignore[valid-type]
    sender = DrainSender("bench", transport_for(parse_drain_url(url), "d.bench", str(ca)), buffer_max=count + 1,
                         notice=lambda m: None)
    sender.start()
    started = time.monotonic()
    for i in range(count):
        sender.offer(LogLine(now_iso(), "app", "web.1", f"line {i} " + "x" * 60))
    while received() < count:
        time.sleep(0.01)
    took = time.monotonic() - started
    sender.stop()
    return count / took


def outage_alone(ca: Path, server_ctx, buffer_max: int, rate: int, down: float) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """The drain alone: `rate` lines/s for 2 s, `down` s with the receiver down, 3 s more. (sent, lost, L10 count)."""
    rx = SyslogReceiver(server_ctx).start()
    sender = DrainSender("bench", transport_for(parse_drain_url(f"syslog+tls://localhost:{rx.port}"), "d.b", str(ca)),
                         buffer_max=buffer_max, notice=lambda m: None)
    sender.start()
    total = int(rate * (down + 5))
    started = time.monotonic()
    for i in range(total):
        elapsed = time.monotonic() - started
        if 2 <= elapsed and rx.connections and rx._server is not None and elapsed < 2 + down:
            rx.stop()
        elif elapsed >= 2 + down and rx._server is None:
            rx.start()
        sender.offer(LogLine(now_iso(), "app", "web.1", f"line {i}"))
        time.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
    if rx._server is None:
        rx.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sender.status().buffered:
        time.sleep(0.1)
    time.sleep(1)
    texts = rx.texts()
    got = numbers(texts, " app web.1 - line ")
    l10 = sum(int(t.split("): ")[1].split(" ")[0]) for t in texts if "Error L10" in t)
    sender.stop()
    rx.close()
    return total, total - len(set(got)), l10


def outage_end_to_end(work: Path, ca: Path, server_ctx, rate: int, down: float) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    server = HoistServer(home=work / "home", user_home=work / "user", extra_env={"HOIST_DRAIN_CA_FILE": str(ca)})
    server.start()
    rx = SyslogReceiver(server_ctx).start()
    try:
        server.cli("login")
        server.cli("apps:create", "bench-drain")
        files = {**example_files("hello"), "ticker.py": TICKER.format(rate=rate),
                 "Procfile": "web: gunicorn app:app\nticker: python ticker.py\n"}
        repo = make_repo(work / "repo", files, server.env())
        server.git(repo, "remote", "add", "hoist", f"{server.url}/bench-drain.git")
        server.push(repo)
        server.cli("drains:add", f"syslog+tls://localhost:{rx.port}", "-a", "bench-drain")
        server.cli("ps:scale", "ticker=1", "-a", "bench-drain")
        marker = " app ticker.1 - tick "
        while len(numbers(rx.texts(), marker)) < 2 * rate:
            time.sleep(0.05)
        rx.stop()
        time.sleep(down)
        rx.start()
        time.sleep(5)
        server.cli("ps:scale", "ticker=0", "-a", "bench-drain")
        time.sleep(2)
        texts = rx.texts()
        got = numbers(texts, marker)
        l10 = sum(int(t.split("): ")[1].split(" ")[0]) for t in texts if "Error L10" in t)
        in_order = got == sorted(got)
        assert in_order, "lines out of order"
        return max(got) + 1, lost(got), l10
    finally:
        rx.close()
        if server.proc and server.proc.poll() is None:
            server.stop()
        remove_app_users(work)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--down", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--no-server", action="store_true", help="skip the end-to-end run through hoist server")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-drains-"))
    work.chmod(0o711)
    try:
        ca, server_ctx = make_ca(work / "ca")
        print(f"one drain, {args.lines} lines of ~130 bytes offered at once, to a real receiver on 127.0.0.1:")
        for scheme in ("syslog+tls", "syslog"):
            rx = SyslogReceiver(server_ctx if scheme == "syslog+tls" else None).start()
            rate = throughput(f"{scheme}://localhost:{rx.port}", ca, args.lines, lambda: len(rx.messages))
            print(f"  {scheme + '://':<14} {rate:10,.0f} lines/s")
            rx.close()
        https = HttpsReceiver(server_ctx)
        rate = throughput(f"https://localhost:{https.port}/", ca, args.lines,
                          lambda: sum(len(f) for _, f in https.posts))
        print(f"  {'https://':<14} {rate:10,.0f} lines/s (logplex POSTs of up to 500 lines)")
        https.close()
        print(f"\nreceiver down {args.down:.0f} s while the app logs {args.rate} lines/s "
              f"({int(args.down * args.rate)} lines to hold):")
        print(f"  {'where':<44} {'sent':>6} {'lost':>6} {'L10 says':>9}")
        if not args.no_server:
            sent, gone, l10 = outage_end_to_end(work / "e2e", ca, server_ctx, args.rate, args.down)
            print(f"  {'hoist server, dyno -> drain, buffer 10000':<44} {sent:>6} {gone:>6} {l10:>9}")
        for buffer_max in (10_000, 500):
            sent, gone, l10 = outage_alone(ca, server_ctx, buffer_max, args.rate, args.down)
            print(f"  {f'the drain alone, buffer {buffer_max}':<44} {sent:>6} {gone:>6} {l10:>9}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
