"""One-offs and add-ons with HOIST_SCHEDULER=swarm, end to end on a 2-node local swarm (scripts/local-swarm): an
app with heroku-postgresql and heroku-redis whose web dynos (swarm tasks) write and read both through
HOIST_SWARM_HOST_ADDR; its release phase runs as a swarm task; `hoist run` attached with and without a pty
and the heroku CLI's `heroku run` return output and exit status; `run:detached` lines reach `logs`; a stopped and
a timed-out one-off's service is removed; a Heroku Scheduler job runs on the swarm; the add-on ports listen on
loopback and the host address only. Root only; timings printed."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.cluster.common import DOCKER, REQUIRES, wait
from tests.e2e.harness import HoistServer, example_files, make_repo
from tests.e2e.heroku_cli import Heroku, heroku_bin

PREFIX = "hone"
NODES = 2
SERVER_ENV = {"HOIST_SCHEDULER_TICK": "15"}  # a "10m" scheduler job runs every 15 s
APP = "both"

pytestmark = REQUIRES

APP_PY = '''import os
from urllib.parse import urlsplit

import psycopg
import redis
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    with psycopg.connect(os.environ["DATABASE_URL"], sslmode="require", connect_timeout=10) as c:
        c.execute("CREATE TABLE IF NOT EXISTS hits (n serial PRIMARY KEY, node text)")
        c.execute("INSERT INTO hits (node) VALUES (%s)", (os.environ.get("HOIST_NODE", ""),))
        pg = c.execute("SELECT count(*) FROM hits").fetchone()[0]
    n = redis.from_url(os.environ["REDIS_URL"], socket_timeout=10).incr("hits")
    return (f"pg {pg} redis {n} via {urlsplit(os.environ['DATABASE_URL']).hostname} "
            f"{urlsplit(os.environ['REDIS_URL']).hostname} on {os.environ.get('HOIST_NODE', 'here')}\\n")
'''



@pytest.fixture(scope="module")
def app(server: HoistServer, workdir: Path) -> str:
    f = example_files("hello")
    f["app.py"] = APP_PY
    f["requirements.txt"] = "flask\ngunicorn\npsycopg[binary]\nredis\n"
    f["Procfile"] = ("web: gunicorn app:app\n"
                     "release: python -c \"import os; print('RELEASE-PHASE on', os.environ['HOIST_NODE'])\"\n")
    repo = make_repo(workdir / "both", f, server.env())
    server.cli("apps:create", APP, cwd=repo)
    server.cli("addons:create", "heroku-postgresql", "-a", APP)
    server.cli("addons:create", "heroku-redis", "-a", APP)
    t0 = time.monotonic()
    pushed = server.push(repo)
    print(f"push with a release phase on the swarm (cold image): {time.monotonic() - t0:.1f}s")
    assert re.search(rf"RELEASE-PHASE on {PREFIX}-n\d", pushed.stdout + pushed.stderr), pushed.stderr[-3000:]
    return APP



def services(swarm: dict[str, str]) -> str:
    return subprocess.run([DOCKER, "service", "ls", "--format", "{{.Name}}"], env={**os.environ, **swarm},
                          capture_output=True, text=True, check=True).stdout


def test_web_dynos_on_the_nodes_use_postgres_and_redis(server: HoistServer, app: str, swarm: dict[str, str]) -> None:
    host = swarm["HOIST_SWARM_HOST_ADDR"]
    server.cli("ps:scale", "web=2", "-a", app)
    wait(lambda: len(re.findall(rf"web\.\d: up .* on {PREFIX}-n\d", server.cli("ps", "-a", app).stdout)) == 2, 90,
         lambda: server.cli("ps", "-a", app).stdout)
    counts: list[tuple[int, int]] = []
    nodes: set[str] = set()
    for _ in range(10):
        r = server.app_get(app)
        assert r.status_code == 200, r.text
        m = re.fullmatch(rf"pg (\d+) redis (\d+) via {re.escape(host)} {re.escape(host)} on ({PREFIX}-n\d)\n", r.text)
        assert m, r.text
        counts.append((int(m[1]), int(m[2])))
        nodes.add(m[3])
    assert counts == sorted(counts) and counts[-1][0] - counts[0][0] == 9 and counts[-1][1] - counts[0][1] == 9
    print(f"10 requests wrote and read Postgres and Redis from {sorted(nodes)} through {host}")
    config = server.cli("config", "-a", app).stdout  # the app's config still names loopback: only swarm dynos differ
    assert "@127.0.0.1:" in config and host not in config


def test_addon_ports_listen_on_loopback_and_the_host_address_only(server: HoistServer, app: str,
                                                                  swarm: dict[str, str]) -> None:
    host = swarm["HOIST_SWARM_HOST_ADDR"]
    shell = server.cli("config", "-a", app, "--shell").stdout
    config = {k: v for k, _, v in (line.partition("=") for line in shell.splitlines())}
    ports = {name: urlsplit(config[name].strip("'\"")).port for name in ("DATABASE_URL", "REDIS_URL")}
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    for name, port in ports.items():
        addrs = sorted({m for m in re.findall(rf"(\S+):{port}\s", listening)})
        assert addrs == sorted(["127.0.0.1", host]), f"{name}'s port {port} listens on {addrs}"
    print(f"add-on ports {ports} listen on 127.0.0.1 and {host} only")
    said = next(m for line in server.output if (m := re.search(r"attach back to ([\d.]+):(\d+)", line)))
    assert said[1] == host
    assert re.findall(rf"(\S+):{said[2]}\s", listening) == [host]  # the one-offs' dial-back: the host address only


def test_run_attached_with_and_without_tty(server: HoistServer, app: str) -> None:
    t0 = time.monotonic()
    out = server.cli("run", "--no-tty", "-a", app, "python", "-c",
                     "import os, sys; print('OUT', os.environ['DYNO'][:4], os.environ['HOIST_NODE'], sys.stdin.isatty())")
    print(f"hoist run --no-tty python -c ...: {time.monotonic() - t0:.1f}s")
    assert re.search(rf"OUT run\. {PREFIX}-n\d False", out.stdout), out.stdout + out.stderr
    assert server.cli("run", "--no-tty", "-a", app, "false", check=False).returncode == 1
    piped = server.cli("run", "--no-tty", "-a", app, "cat", input="from-stdin\n")
    assert piped.stdout == "from-stdin\n", piped

    env = {**server.env(), "HOIST_API_URL": server.url, "HOIST_API_KEY": server.token, "HOIST_HOME": str(server.home),
           "TERM": "xterm"}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, "-m", "hoist", "run", "-a", app, "python"], env)
    buf = b""

    def until(text: bytes, timeout: float = 60) -> None:
        nonlocal buf
        deadline = time.monotonic() + timeout
        while text not in buf and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    buf += os.read(fd, 4096)
                except OSError:
                    break
        assert text in buf, buf[-500:]
        buf = buf[buf.index(text) + len(text):]
    try:
        until(b">>> ")
        os.write(fd, b"print(6*7)\r")
        until(b"42\r\n")
        os.write(fd, b"import os; os.isatty(0), os.environ['TERM'], os.environ['HOIST_NODE'][:5]\r")
        until(f"(True, 'xterm', '{PREFIX}-')".encode())
        os.write(fd, b"exit(3)\r")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 3
    finally:
        os.close(fd)


@pytest.mark.skipif(heroku_bin() is None, reason="the heroku CLI is not installed: run .ci/run")
def test_heroku_run(server: HoistServer, app: str, workdir: Path) -> None:
    heroku = Heroku(server, workdir / "heroku-home")
    out = heroku("run", "echo hi $DYNO on $HOIST_NODE", "-a", app)
    assert re.search(rf"hi run\.\d+ on {PREFIX}-n\d", out.stdout), out.stdout + out.stderr
    assert heroku("run", "-x", "false", "-a", app, check=False).returncode == 1


def test_run_detached_logs_ps_and_cleanup(server: HoistServer, app: str, swarm: dict[str, str]) -> None:
    out = server.cli("run:detached", "-a", app, "python", "-c",
                     "import time; print('DETACHED-LINE', flush=True); time.sleep(4); print('DETACHED-END')").stdout
    name = re.search(r"run\.\d+", out)
    assert name, out
    wait(lambda: re.search(rf"{name[0]}: up .* on {PREFIX}-n\d", server.cli("ps", "-a", app).stdout), 60,
         lambda: server.cli("ps", "-a", app).stdout)

    def logs() -> str:
        return server.cli("logs", "-n", "200", "-a", app).stdout
    wait(lambda: "Process exited with status 0" in logs() and "DETACHED-END" in logs(), 60, logs)
    text = logs()
    assert re.search(rf"app\[{re.escape(name[0])}\]: DETACHED-LINE", text), text
    wait(lambda: f"hoist-{app}-run-" not in services(swarm), 30, lambda: services(swarm))  # its service is gone
    killed = server.cli("run:detached", "-a", app, "sleep", "300").stdout
    kname = re.search(r"run\.\d+", killed)
    assert kname
    wait(lambda: f"{kname[0]}: up" in server.cli("ps", "-a", app).stdout, 60, lambda: server.cli("ps", "-a", app).stdout)
    server.cli("ps:stop", kname[0], "-a", app)
    wait(lambda: f"hoist-{app}-run-" not in services(swarm), 30, lambda: services(swarm))
    assert kname[0] not in server.cli("ps", "-a", app).stdout

    # Past its time to live: stopped (SIGTERM, then SIGKILL after the grace) and its service removed.
    r = server.api("POST", f"/apps/{app}/dynos", json={"command": "trap '' TERM; sleep 300", "attach": False,
                                                        "time_to_live": 3})
    assert r.status_code == 201, r.text
    limited = r.json()["name"]
    wait(lambda: f"[{limited}]: Stopping remaining processes with SIGKILL" in logs()
         and f"[{limited}]: Process exited with status 137" in logs(), 60, logs)
    wait(lambda: f"hoist-{app}-run-" not in services(swarm), 30, lambda: services(swarm))


def test_a_scheduler_job_runs_on_the_swarm(server: HoistServer, app: str, swarm: dict[str, str]) -> None:
    server.cli("addons:create", "scheduler", "-a", app)
    out = server.cli("scheduler:add", "echo SCHED-LINE on $HOIST_NODE", "--every", "10m", "-a", app).stdout
    job = re.search(r"Added job ([0-9a-f]+)", out)
    assert job, out

    def logs() -> str:
        return server.cli("logs", "-n", "300", "-a", app).stdout
    try:
        wait(lambda: re.search(rf"app\[scheduler\.\d+\]: SCHED-LINE on {PREFIX}-n\d", logs()), 90, logs)
    finally:
        server.cli("scheduler:remove", job[1], "-a", app)
    wait(lambda: f"hoist-{app}-scheduler-" not in services(swarm), 30, lambda: services(swarm))
