"""What a user sees of swarm dynos, end to end on a 3-node local swarm (scripts/local-swarm) with a real hoist
server, a real git push and the real `hoist logs --tail` process:

- every web dyno's lines (one per request) come as `app[web.N]`, from more than one node, with heroku[router] lines;
  a worker's timed lines come as `app[worker.1]`, none twice and none lost when hoist's stream of the
  service is cut (its `docker service logs` process killed: it is opened again `--since` the last line);
  the meter's marker lines never show; lines over the log rate are dropped and counted (L10);
- memory: the services have the dyno's limit (quota x kill factor) and reservation; a process type that
  grows past its quota (100 MB here) logs R14, then past its limit the kernel kills it in its container
  and hoist logs R15; `GET /apps/APP/dynos` and `ps` show each dyno's memory. Root only; timings printed."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.cluster.common import DOCKER, REQUIRES, wait
from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer, example_files, make_repo

PREFIX = "hlog"
QUOTA_MB = 100  # HOIST_DYNO_MEMORY_MB; the kill factor is 2: containers are limited to 200 MB
LOG_RATE = 100  # HOIST_LOG_RATE: lines per second per dyno (burst twice that), beyond which lines are dropped (L10)

pytestmark = REQUIRES

APP_PY = '''import os, sys
from flask import Flask, request
app = Flask(__name__)

@app.route("/")
def index():
    where = f"{os.environ.get('DYNO')} on {os.environ.get('HOIST_NODE')}"
    print(f"SERVED {request.args.get('n', '-')} by {where}", file=sys.stderr if request.args.get('err') else sys.stdout,
          flush=True)
    return f"ok {where}\\n"
'''
WORKER_PY = '''import itertools, os, time
for n in itertools.count():
    print(f"TICK {os.environ['DYNO']} {n}", flush=True)
    time.sleep(0.2)
'''
FLOOD_PY = '''import sys, time
sys.stdout.write("".join(f"FLOOD {n}\\n" for n in range(3000)))
sys.stdout.flush()
time.sleep(3)
print("FLOOD done", flush=True)
time.sleep(60)
'''
HOG_PY = '''import time
held = []
def grow(to_mb):
    while len(held) * 10 < to_mb:
        held.append(bytearray(10 * 1024 * 1024))
        time.sleep(0.1)
    print(f"HOG holds {len(held) * 10} MB", flush=True)
grow(150)        # over the 100 MB quota, under the 200 MB limit: R14
time.sleep(6)
grow(400)        # past the limit: the kernel kills it in its container: R15
time.sleep(60)
'''



@pytest.fixture(scope="module")
def server(workdir: Path, swarm: dict[str, str]) -> Iterator[HoistServer]:
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user",
                      extra_env={**swarm, "HOIST_STOP_GRACE": "3", "HOIST_BOOT_TIMEOUT": "90",
                                 "HOIST_DYNO_MEMORY_MB": str(QUOTA_MB), "HOIST_MEMORY_INTERVAL": "1",
                                 "HOIST_LOG_RATE": str(LOG_RATE)})
    srv.start()
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        assert srv.stop() == 0
        left = [pid for pid in service_logs_pids("") if swarm["DOCKER_HOST"].encode() in environ(pid)]
        assert not left, f"docker service logs processes outlived hoist: {left}"
    remove_app_users(workdir)


def environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


class Tail:
    """`hoist logs --tail -n 0 -a APP`, the real CLI process, its lines collected by a thread."""

    def __init__(self, server: HoistServer, app: str) -> None:
        env = {**server.env(), "HOIST_API_URL": server.url, "HOIST_API_KEY": server.token}
        self.proc = subprocess.Popen([sys.executable, "-m", "hoist", "logs", "--tail", "-n", "0", "-a", app],
                                     env=env, stdout=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, cond, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not cond(list(self.lines)):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"timed out waiting for {what}; the tail showed:\n" + "\n".join(self.lines[-60:]))
            time.sleep(0.3)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)



def service_logs_pids(service_id: str) -> list[int]:
    """The `docker service logs` processes that follow `service_id` (hoist's: the id is of this test's swarm;
    `service ls` gives it cut to 12 characters, hoist follows the whole id)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[:3] == [DOCKER.encode(), b"service", b"logs"] and any(a.startswith(service_id.encode()) for a in argv):
            found.append(int(entry.name))
    return found


def test_logs_from_every_node_and_memory(server: HoistServer, workdir: Path, swarm: dict[str, str]) -> None:
    docker_env = {**os.environ, **swarm}
    files = example_files("hello")
    files.update({"app.py": APP_PY, "worker.py": WORKER_PY, "hog.py": HOG_PY,
                  "flood.py": FLOOD_PY,
                  "Procfile": "web: gunicorn app:app\nworker: python worker.py\nhog: python hog.py\nflood: python flood.py\n"})
    repo = make_repo(workdir / "chatty", files, server.env())
    server.cli("apps:create", "chatty", cwd=repo)
    server.cli("config:set", "WEB_CONCURRENCY=1", cwd=repo)  # a small dyno: one gunicorn worker
    t0 = time.monotonic()
    server.push(repo)
    server.wait_for("chatty", "ok web.1 on", timeout=150)
    print(f"push to serving: {time.monotonic() - t0:.1f}s")

    tail = Tail(server, "chatty")
    try:
        t0 = time.monotonic()
        server.cli("ps:scale", "web=3", "worker=1", cwd=repo)

        def ps() -> str:
            return server.cli("ps", cwd=repo).stdout
        wait(lambda: len(re.findall(r"(web\.\d|worker\.1): up .* on hlog-n\d", ps())) == 4, 120, ps)
        print(f"ps:scale web=3 worker=1, all up: {time.monotonic() - t0:.1f}s")
        nodes = set(re.findall(r"web\.\d: up .* on (hlog-n\d)", ps()))
        assert len(nodes) >= 2, f"3 web dynos on one node: {ps()}"

        # One known line per request, from every web dyno: attributed to the dyno that served it.
        for n in range(30):
            r = server.app_get("chatty", f"/?n={n}" + ("&err=1" if n % 2 else ""))  # stdout and stderr both
            assert r.status_code == 200, r.text

        def served(lines: list[str]) -> dict[int, str]:
            out = {}
            for line in lines:
                m = re.search(r"app\[(web\.\d)\]: SERVED (\d+) by (web\.\d) on (hlog-n\d)", line)
                if m:
                    assert m.group(1) == m.group(3), f"a line under another dyno's name: {line}"
                    out[int(m.group(2))] = m.group(4)
            return out
        tail.wait(lambda lines: len(served(lines)) == 30, 60, "the 30 requests' lines")
        assert set(served(tail.lines).values()) == nodes, "lines not from every node"
        assert sum(1 for line in tail.lines if "heroku[router]:" in line and "dyno=web." in line) >= 30
        assert not [line for line in tail.lines if "hoist-meter" in line or "\x1e" in line]
        print(f"{len(served(tail.lines))} request lines from {sorted(nodes)}, "
              f"{sum('heroku[router]' in x for x in tail.lines)} router lines")

        # The worker's lines: none twice, none lost, also when hoist's stream of its service is cut.
        def ticks(lines: list[str]) -> list[int]:
            return [int(m.group(1)) for line in lines if (m := re.search(r"app\[worker\.1\]: TICK worker\.1 (\d+)$", line))]
        tail.wait(lambda lines: len(ticks(lines)) >= 10, 30, "worker lines")
        worker_id = subprocess.run([DOCKER, "service", "ls", "-q", "--filter", "name=hoist-chatty-worker"],
                                   env=docker_env, capture_output=True, text=True, check=True).stdout.split()
        assert len(worker_id) == 1, worker_id
        streams = service_logs_pids(worker_id[0])
        assert len(streams) == 1, streams
        before = len(ticks(tail.lines))
        os.kill(streams[0], 9)
        tail.wait(lambda lines: len(ticks(lines)) >= before + 25, 30, "worker lines after the stream was cut")
        assert len(service_logs_pids(worker_id[0])) == 1, "the stream was not opened again"
        got = ticks(tail.lines)
        assert got == list(range(got[0], got[0] + len(got))), f"worker lines twice or lost: {got}"
        print(f"{len(got)} worker lines in order, none twice or lost across a cut stream")

        # Memory: each service has the dyno's limit, and ps shows what each dyno uses.
        spec = json.loads(subprocess.run([DOCKER, "service", "inspect", worker_id[0]], env=docker_env,
                                         capture_output=True, text=True, check=True).stdout)[0]
        resources = spec["Spec"]["TaskTemplate"]["Resources"]
        assert resources["Limits"]["MemoryBytes"] == 2 * QUOTA_MB * 1024 * 1024
        assert resources["Reservations"]["MemoryBytes"] == QUOTA_MB * 1024 * 1024
        wait(lambda: len(re.findall(r"(?:web\.\d|worker\.1): up .*\) \d+ MB on hlog-n\d", ps())) == 4, 30, ps)

        # A process type that outgrows its quota: R14, then the kernel kills it at its limit: R15.
        t0 = time.monotonic()
        server.cli("ps:scale", "hog=1", "flood=1", cwd=repo)
        tail.wait(lambda lines: any("heroku[hog.1]: Error R14" in x for x in lines), 120, "R14")
        hog = [d for d in server.api("GET", "/apps/chatty/dynos").json() if d["name"] == "hog.1"]
        assert hog and hog[0]["memory_mb"] is not None and hog[0]["memory_mb"] > QUOTA_MB, hog
        assert re.fullmatch(r"hlog-n[123]", hog[0]["node"] or ""), hog  # any of the swarm's nodes
        tail.wait(lambda lines: any("heroku[hog.1]: Error R15" in x for x in lines), 60, "R15")
        r14 = next(i for i, x in enumerate(tail.lines) if "heroku[hog.1]: Error R14" in x)
        r15 = next(i for i, x in enumerate(tail.lines) if "heroku[hog.1]: Error R15" in x)
        assert r14 < r15 and "limit" in tail.lines[r15], tail.lines[r15]
        assert any("app[hog.1]: HOG holds 150 MB" in x for x in tail.lines[:r15])
        # Over the log rate: lines dropped and said so (L10), as for a local dyno; the rest arrive.
        tail.wait(lambda lines: any("app[flood.1]: FLOOD done" in x for x in lines), 60, "the flood's last line")
        flood = [x for x in tail.lines if "app[flood.1]: FLOOD " in x]
        l10 = [x for x in tail.lines if "heroku[flood.1]: Error L10 (output buffer overflow)" in x]
        assert l10 and 2 * LOG_RATE <= len(flood) < 3000, (len(flood), l10)
        dropped = sum(int(m.group(1)) for x in l10 if (m := re.search(r"-> (\d+) log lines dropped", x)))
        assert dropped + len(flood) == 3001, (dropped, len(flood))  # every line either shown or counted
        print(f"flood: {len(flood)} of 3001 lines shown, {dropped} dropped: {l10[0]}")
        print(f"hog=1: R14 then R15 {time.monotonic() - t0:.1f}s after the scale: {tail.lines[r15]}")
    finally:
        tail.close()
