"""Issue 18 on the real kernel, as root: a dyno is one kernel unit (its cgroup), every listener of a dyno
answers only its own app and hoist, and hoist restarts without its apps noticing. Each test is an attack
or a failure from the issue, reproduced as it was written there."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import httpx
import psutil
import psycopg
import pytest

from hoist.contain.layout import read_layout
from tests.e2e.conftest import remove_app_users
from tests.e2e.contained import app_cgroup, app_user, in_cgroups, marked, session, tree, units, user_pids, wait
from tests.e2e.harness import HoistServer, Load, commit_files, example_files, free_port, make_repo

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not read_layout().mode or shutil.which("nft") is None,
                                reason="needs root, cgroups and nft")

TINY = {"requirements.txt": "", ".python-version": "3.12\n"}
MARKER = f"HOIST_CONTAIN_MARKER={uuid.uuid4().hex}"
QUOTA_MB = 64


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[HoistServer]:
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user",
                      extra_env={"HOIST_STOP_GRACE": "2", "HOIST_MEMORY_INTERVAL": "1", "HOIST_BOOT_TIMEOUT": "30",
                                 "HOIST_DYNO_MEMORY_MB": str(QUOTA_MB)})
    srv.start()
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()
    remove_app_users(workdir)


def deploy(server: HoistServer, workdir: Path, app: str, files: dict[str, str], *config: str) -> Path:
    repo = make_repo(workdir / app, files, server.env())
    server.cli("apps:create", app, cwd=repo)
    if config:
        server.cli("config:set", *config, "-a", app)
    assert "Released" in server.push(repo).stderr
    return repo


def logs(server: HoistServer, app: str) -> str:
    return server.cli("logs", "-n", "1500", "-a", app).stdout


# ----- a dyno is one kernel unit -----

HOG = "import sys, time\nhold = b'x' * (int(sys.argv[1]) << 20)\ntime.sleep(3600)\n"
HOGGER = ("import os, subprocess, sys, time\n"
          "for _ in range(int(os.environ.get('HOGS', '3'))):\n"
          "    subprocess.Popen([sys.executable, 'hog.py', '25'], start_new_session=True)\n"
          "print('hogs started', flush=True)\n"
          "while True:\n    time.sleep(1)\n")


def test_setsid_children_holding_memory_are_the_dynos_memory_r14_then_r15(server: HoistServer, workdir: Path) -> None:
    """Six setsid children held 6.2 GB while ps showed 84 MB and no R14/R15 fired (issue 18, why 3)."""
    deploy(server, workdir, "hogs", {**TINY, "hog.py": HOG, "worker.py": HOGGER, "Procfile": "worker: python worker.py\n"},
           "HOGS=3")
    server.cli("ps:scale", "worker=1", "-a", "hogs")
    wait(lambda: "R14 (Memory quota exceeded)" in logs(server, "hogs"), 40, lambda: logs(server, "hogs")[-2000:])
    mb = server.api("GET", "/apps/hogs/dynos/worker.1").json()["memory_mb"]
    assert mb > 75, mb  # three 25 MB children in their own sessions, counted as the dyno's
    assert f"of {QUOTA_MB}M quota" in logs(server, "hogs")
    (unit,) = units(server.home, "hogs").values()
    assert len({session(p) for p in unit}) >= 4  # the worker and three setsid sessions, one cgroup
    server.cli("config:set", "HOGS=6", "-a", "hogs")  # 150 MB: past twice the quota
    wait(lambda: "R15 (Memory quota vastly exceeded)" in logs(server, "hogs"), 40, lambda: logs(server, "hogs")[-2000:])
    server.cli("ps:scale", "worker=0", "-a", "hogs")
    wait(lambda: not user_pids(app_user(server.home, "hogs")) and not units(server.home, "hogs"), 20, "every hog gone with the dyno")


def test_a_daemonizing_web_command_redeployed_three_times_leaves_no_old_process(
        server: HoistServer, workdir: Path) -> None:
    """`gunicorn --daemon` (a real tutorial's Procfile) left the old release's gunicorn serving after every
    redeploy, and the app's user could never be removed (issue 18, why 3)."""
    app_py = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'CODE']\n"
    repo = deploy(server, workdir, "daemon", {**TINY, "requirements.txt": "gunicorn\n", "app.py": app_py.replace(
        "CODE", "v1"), "Procfile": "web: gunicorn app:app\n"})
    server.wait_for("daemon", "v1")
    user = app_user(server.home, "daemon")
    for n in (2, 3, 4):
        commit_files(repo, {"app.py": app_py.replace("CODE", f"v{n}"),
                            "Procfile": "web: gunicorn --daemon app:app\n"}, server.env(), f"v{n}")
        push = server.push(repo, check=False)
        assert push.returncode != 0 and "exited with status 0 while booting" in push.stderr, push.stderr
        # Every process of the app's user is the serving dyno's: no daemon of a failed release survives.
        wait(lambda: user_pids(user) == in_cgroups(server.home, "daemon") != set()
             and len(units(server.home, "daemon")) == 1, 20,
             lambda: f"{user_pids(user)} vs {units(server.home, 'daemon')}")
        assert server.app_get("daemon").text == "v1"
    assert "Did the command daemonize?" in logs(server, "daemon")


SPY = "import time\ntime.sleep(3600)\n"


def test_a_setsid_nohup_process_survives_no_restart_scale_down_or_destroy(server: HoistServer, workdir: Path) -> None:
    """`setsid nohup ...` survived ps:restart, ps:scale web=0 and apps:destroy, then read the next app of
    the same name's secrets (issue 18, why 2 and 3)."""
    procfile = "web: setsid nohup python spy.py >/dev/null 2>&1 & exec python -m http.server $PORT\n"
    deploy(server, workdir, "spy", {**TINY, "spy.py": SPY, "Procfile": procfile}, MARKER)

    def spies() -> set[int]:
        return {p for p in marked(MARKER) if b"spy.py" in Path(f"/proc/{p}/cmdline").read_bytes()}
    wait(lambda: len(spies()) == 1, 20, "the spy runs")
    (first,) = spies()
    web = next(p for p, d in marked(MARKER).items() if p != first)
    assert session(first) != session(web)  # it escaped the dyno's session and process group
    server.cli("ps:restart", "-a", "spy")
    wait(lambda: first not in spies() and len(spies()) == 1, 20, "ps:restart takes the spy too")
    server.cli("ps:scale", "web=0", "-a", "spy")
    wait(lambda: not marked(MARKER), 20, lambda: f"ps:scale web=0 leaves {marked(MARKER)}")
    server.cli("ps:scale", "web=1", "-a", "spy")
    wait(lambda: len(spies()) == 1, 20, "the spy runs again")
    user = app_user(server.home, "spy")
    cgroup = app_cgroup(server.home, "spy")
    assert cgroup.name.startswith("uid.")
    server.cli("apps:destroy", "spy", "--confirm", "spy")
    wait(lambda: not marked(MARKER) and not user_pids(user), 20, lambda: f"destroy leaves {marked(MARKER)}")
    assert not cgroup.exists()


# ----- every listener answers only its own app and hoist -----

ECHO = ("import os, socket, threading\n"
        "def tcp(port):\n"
        "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "    s.bind(('0.0.0.0', port)); s.listen()\n"
        "    while True:\n"
        "        c, _ = s.accept(); c.sendall(b'tcp-ok'); c.close()\n"
        "def udp(port):\n"
        "    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', port))\n"
        "    while True:\n"
        "        data, addr = u.recvfrom(100); u.sendto(b'udp-ok', addr)\n"
        "kind = os.environ['DYNO'].split('.')[0]\n"
        "if kind == 'web':\n"
        "    threading.Thread(target=tcp, args=(int(os.environ['SECOND_PORT']),), daemon=True).start()\n"
        "    import http.server; http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler,"
        " port=int(os.environ['PORT']), bind='0.0.0.0')\n"
        "else:\n"
        "    threading.Thread(target=udp, args=(int(os.environ['ECHO_PORT']),), daemon=True).start()\n"
        "    tcp(int(os.environ['ECHO_PORT']))\n")
PROBE = ("import socket, sys\n"
         "for spec in sys.argv[1:]:\n"
         "    kind, port = spec.split(':'); port = int(port)\n"
         "    try:\n"
         "        if kind == 'tcp':\n"
         "            c = socket.create_connection(('127.0.0.1', port), timeout=3); got = c.recv(10)\n"
         "        else:\n"
         "            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)\n"
         "            u.connect(('127.0.0.1', port)); u.send(b'x'); got = u.recv(10)\n"
         "        print(spec, got.decode())\n"
         "    except OSError as e:\n"
         "        print(spec, type(e).__name__)\n")


def test_another_app_cannot_reach_a_worker_port_tcp_or_udp_nor_a_second_port(
        server: HoistServer, workdir: Path) -> None:
    """Worker ports were reachable by other apps (documented, but Heroku's dynos are not reachable at all)."""
    echo, second = free_port(), free_port()
    deploy(server, workdir, "fw-a", {**TINY, "echo.py": ECHO, "Procfile": "web: python echo.py\nworker: python echo.py\n"},
           f"ECHO_PORT={echo}", f"SECOND_PORT={second}")
    server.cli("ps:scale", "worker=1", "-a", "fw-a")
    deploy(server, workdir, "fw-b", {**TINY, "Procfile": "web: python -m http.server $PORT\n"})
    targets = [f"tcp:{echo}", f"udp:{echo}", f"tcp:{second}"]

    def probe(app: str) -> str:
        return server.cli("run", "-a", app, "python", "-c", PROBE, *targets).stdout
    wait(lambda: f"udp:{echo} udp-ok" in subprocess.run([sys.executable, "-c", PROBE, *targets], capture_output=True,
                                                         text=True).stdout, 30, "fw-a's worker listens")
    mine = probe("fw-a")
    assert all(f"{t} {t.split(':')[0]}-ok" in mine for t in targets), mine  # its own app's dynos reach them
    theirs = probe("fw-b")
    assert all(f"{t} ConnectionRefusedError" in theirs for t in targets), theirs  # another app's do not
    hoist = subprocess.run([sys.executable, "-c", PROBE, *targets], capture_output=True, text=True).stdout
    assert all(f"{t} {t.split(':')[0]}-ok" in hoist for t in targets), hoist  # hoist (root) does
    nobody = subprocess.run(["/usr/bin/python3", "-c", PROBE, *targets], capture_output=True, text=True,
                            user="nobody", cwd="/").stdout
    assert all(f"{t} ConnectionRefusedError" in nobody for t in targets), nobody  # nor any other local user
    server.cli("ps:scale", "worker=0", "-a", "fw-a")


# ----- internal surfaces -----

def test_the_internal_api_answers_only_hoists_own_processes(server: HoistServer) -> None:
    """Any local process could reach the internal API port named in world-readable server.json (issue 18, why 9)."""
    info = server.home / "server.json"
    assert stat.S_IMODE(info.stat().st_mode) == 0o600 and "internal" not in info.read_text()
    assert stat.S_IMODE((server.home / "router" / "routes.json").stat().st_mode) == 0o600
    sock = server.home / "run" / "api.sock"
    probe = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
             "try:\n    s.connect(sys.argv[1]); print('connected')\nexcept OSError as e: print(type(e).__name__)\n")
    out = subprocess.run(["/usr/bin/python3", "-c", probe, str(sock)], capture_output=True, text=True,
                         user="nobody", cwd="/").stdout
    assert out.strip() == "PermissionError", out
    # No TCP port of the hoist server process serves the API (the router is its only way in).
    assert server.proc is not None
    for conn in psutil.Process(server.proc.pid).net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN:
            try:
                r = httpx.get(f"http://127.0.0.1:{conn.laddr.port}/account", timeout=3,
                              headers={"Authorization": f"Bearer {server.token}", "Accept": "application/json"})
                assert r.status_code != 200, conn
            except httpx.HTTPError:
                pass


def test_a_spoofed_x_forwarded_for_is_not_believed(server: HoistServer) -> None:
    r = httpx.post(server.url + "/oauth/authorizations", auth=("nobody@example.com", "wrong"),
                   headers={"X-Forwarded-For": "203.0.113.66"}, timeout=30)
    assert r.status_code in (401, 429)
    wait(lambda: any("failed login for 'nobody@example.com'" in line for line in server.output), 10, "logged")
    line = next(line for line in server.output if "failed login for 'nobody@example.com'" in line)
    assert "from 127.0.0.1" in line and "203.0.113.66" not in line, line


# ----- hoist restarts without its apps noticing -----

def test_kill_9_between_spawn_and_record_leaves_no_orphan_and_no_duplicate(
        server: HoistServer, workdir: Path) -> None:
    """A pid file written after the spawn returned: a kill -9 in between left a dyno no later hoist saw (why 4)."""
    deploy(server, workdir, "race", {**TINY, "Procfile": "worker: exec sleep 3600\n"}, MARKER)
    for quantity, delay in ((8, 0.05), (3, 0.15), (8, 0.02), (6, 0.3)):
        server.api("PATCH", "/apps/race/formation", json={"updates": [{"type": "worker", "quantity": quantity}]})
        time.sleep(delay)
        server.stop(signal.SIGKILL)
        server.start()
        want = {f"worker.{n}" for n in range(1, quantity + 1)}

        def settled() -> bool:
            dynos = sorted(marked(MARKER).values())
            return set(dynos) == want and len(dynos) == quantity and in_cgroups(server.home, "race") >= set(marked(MARKER))
        wait(settled, 30, lambda: f"{quantity} workers: {sorted(marked(MARKER).values())}")
        time.sleep(0.5)
        assert settled()
    server.cli("apps:destroy", "race", "--confirm", "race")
    wait(lambda: not marked(MARKER), 20, "race destroyed")


def test_kill_9_under_load_to_three_apps_one_with_a_database(server: HoistServer, workdir: Path) -> None:
    """A hoist restart cost every app 3-5 s of 503s and refused connections, DB-backed ones more (why 6)."""
    repo = make_repo(workdir / "rows", example_files("dataentry"), server.env())
    server.cli("apps:create", "rows", cwd=repo)
    server.cli("addons:create", "heroku-postgresql", "-a", "rows")
    assert "Released" in server.push(repo).stderr
    deploy(server, workdir, "plain-1", {**TINY, "Procfile": "web: python -m http.server $PORT\n"})
    deploy(server, workdir, "plain-2", {**TINY, "Procfile": "web: python -m http.server $PORT\n"})
    loads = [Load(server, app, interval=0.05) for app in ("rows", "plain-1", "plain-2")]
    for load in loads:
        load.__enter__()
    try:
        time.sleep(1.0)
        server.stop(signal.SIGKILL)
        time.sleep(1.0)  # hoist is down: apps keep serving
        server.start()
        time.sleep(1.0)
    finally:
        for load in loads:
            load.__exit__()
    for load in loads:
        assert load.failures == [] and load.ok > 40, (load.app, load.ok, load.failures[:5])
    adopted = [int(m.group(1)) for line in server.output if (m := re.search(r"adopted (\d+) dyno", line))]
    assert adopted and adopted[0] >= 3, server.output  # these three apps' web dynos (and the other apps')


def test_a_renamed_apps_dynos_keep_their_cgroup_and_are_adopted_under_the_new_name(
        server: HoistServer, workdir: Path) -> None:
    """A rename keeps the running dynos (issue 16); their cgroup is named by the app's uid, so they stay contained,
    a kill -9 of hoist then adopts them for the new name, and a new app of the old name gets a cgroup of its own."""
    deploy(server, workdir, "ren-a", {**TINY, "Procfile": "web: python -m http.server $PORT\n"})
    cgroup = app_cgroup(server.home, "ren-a")
    before = in_cgroups(server.home, "ren-a")
    assert cgroup.name.startswith("uid.") and before
    server.cli("apps:rename", "ren-b", "--app", "ren-a")
    assert app_cgroup(server.home, "ren-b") == cgroup and in_cgroups(server.home, "ren-b") == before
    with Load(server, "ren-b", interval=0.05) as load:
        time.sleep(0.5)
        server.stop(signal.SIGKILL)
        server.start()
        time.sleep(0.5)
    assert load.failures == [] and load.ok > 10, load.failures[:5]
    assert in_cgroups(server.home, "ren-b") == before  # the same processes: adopted, not restarted
    assert "web.1: up" in server.cli("ps", "-a", "ren-b").stdout
    deploy(server, workdir, "ren-a2", {**TINY, "Procfile": "web: python -m http.server $PORT\n"})
    server.cli("apps:rename", "ren-a", "--app", "ren-a2")  # the old name, taken again by another app
    assert app_cgroup(server.home, "ren-a") != cgroup
    server.cli("apps:destroy", "ren-b", "--confirm", "ren-b")
    wait(lambda: not cgroup.exists(), 20, "the renamed app's cgroup goes with it")
    assert in_cgroups(server.home, "ren-a")  # the other app's dynos are untouched
    server.cli("apps:destroy", "ren-a", "--confirm", "ren-a")


def test_kill_9_with_a_running_cluster_then_a_checkpoint(server: HoistServer, workdir: Path) -> None:
    """lock_down_home() set HOIST_HOME/postgres to 0700 under a cluster that survived the kill: PANIC (why 5)."""
    url = server.api("GET", "/apps/rows/config-vars").json()["DATABASE_URL"]
    pg = server.home / "postgres"
    pid = int((pg / "data" / "postmaster.pid").read_text().split()[0])
    failures: list[str] = []
    done = threading.Event()

    def write() -> None:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS ticks (n int)")
            for n in range(200):
                try:
                    conn.execute("INSERT INTO ticks VALUES (%s)", (n,))
                except psycopg.Error as exc:
                    failures.append(repr(exc))
                time.sleep(0.02)
        done.set()
    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    server.stop(signal.SIGKILL)
    server.start()
    writer.join(60)
    assert done.is_set() and failures == [], failures[:5]
    assert pg.stat().st_mode & stat.S_IXOTH  # the cluster's user still reaches its data
    assert int((pg / "data" / "postmaster.pid").read_text().split()[0]) == pid  # the same cluster, never restarted
    admin = f"postgres://postgres:{(pg / 'admin-password').read_text().strip()}@127.0.0.1:" \
            f"{json.loads((pg / 'cluster.json').read_text())['port']}/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute("CHECKPOINT")
    assert "PANIC" not in (pg / "data" / "server.log").read_text()


def test_restart_hands_over_and_the_apps_keep_serving(server: HoistServer) -> None:
    """`hoist server --restart` (an upgrade): the running server hands over (SIGUSR2), the new one adopts."""
    assert server.proc is not None
    old = server.proc
    with Load(server, "plain-2", interval=0.05) as load:
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
        time.sleep(0.5)
    assert load.failures == [] and load.ok > 10, load.failures[:5]
    assert any("handed over" in line for line in server.output), server.output[-5:]
    assert "hoist: the running hoist server handed over; taking over its apps" in lines, lines
    assert any("adopted" in line and "and its router" in line for line in lines), lines
    new.send_signal(signal.SIGUSR2)  # and hand over once more, to the fixture's server
    assert "hoist: handed over" in new.communicate(timeout=60)[0]
    server.start()
    assert any("adopted" in line for line in server.output)


def test_sigterm_to_the_servers_process_group_stops_everything(server: HoistServer, workdir: Path) -> None:
    """After SIGTERM to `hoist server`'s process group, a router the watcher restarted stayed with no parent,
    holding the ports (why 6): a stop stops, whoever gets the signal first."""
    server.stop()
    env = server.env()
    proc = subprocess.Popen([sys.executable, "-m", "hoist", "server", "--home", str(server.home), "--port",
                             str(server.port), "--tls-port", str(server.tls_port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "hoist: ready":
            break
    server.wait_for("plain-1", "Directory listing")
    os.killpg(proc.pid, signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0 and "hoist: stopped" in out, out
    assert not user_pids(app_user(server.home, "plain-1")) and not (tree(server.home)).exists()
    for port in (server.port, server.tls_port):
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # nobody holds the ports
    assert b"" == subprocess.run(["pgrep", "-f", str(server.home)], capture_output=True).stdout
    server.start()  # for whatever runs after
