"""Benchmark: wake-to-first-byte of a sleeping Flask app (gunicorn) vs a request to it awake.

Run: /work/venv/bin/python bench/wake.py [--rounds 5]
Starts a real hoist server in a temp home with a short idle time; everything on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.e2e.harness import HoistServer, example_files, make_repo  # noqa: E402


def first_byte(server: HoistServer, app: str) -> float:
    """Seconds from sending GET / on a fresh connection to the first byte of the response."""
    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {app}.localhost\r\nConnection: close\r\n\r\n".encode())
        first = sock.recv(1)
        took = time.monotonic() - t
        rest = first + b"".join(iter(lambda: sock.recv(65536), b""))
    assert rest.startswith(b"HTTP/1.1 200"), rest[:200]
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-wake-"))
    work.chmod(0o711)  # per-app users (hoist as root) must pass through to the home
    # HOIST_SLEEP_AFTER is in minutes: 0.02 = 1.2 s without requests.
    server = HoistServer(home=work / "home", user_home=work / "user", extra_env={"HOIST_SLEEP_AFTER": "0.02"})
    wakes: list[float] = []
    awake: list[float] = []
    try:
        server.start()
        server.cli("login")
        repo = make_repo(work / "app", example_files("hello"), server.env())
        server.cli("apps:create", "sleepy", cwd=repo)
        server.push(repo)
        server.cli("ps:sleep", "on", "-a", "sleepy")
        for _ in range(args.rounds):
            deadline = time.monotonic() + 30
            while server.api("GET", "/apps/sleepy/sleep").json()["asleep"] is not True:
                if time.monotonic() > deadline:
                    raise SystemExit("the app never fell asleep")
                time.sleep(0.1)
            time.sleep(0.5)  # let the stopped dyno's process exit for good
            wakes.append(first_byte(server, "sleepy"))
            awake.extend(first_byte(server, "sleepy") for _ in range(5))
    finally:
        if server.proc and server.proc.poll() is None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    w, a = statistics.median(wakes), statistics.median(awake)
    print(f"wake-to-first-byte (sleeping Flask app, gunicorn, WEB_CONCURRENCY=2): median {w * 1000:.0f} ms, "
          f"min {min(wakes) * 1000:.0f} ms, max {max(wakes) * 1000:.0f} ms over {len(wakes)} wakes")
    print(f"awake first byte: median {a * 1000:.1f} ms; wake costs {w / a:.0f}x an awake request")
    return 0 if w < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
