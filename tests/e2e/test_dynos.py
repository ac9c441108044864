"""Dynos end to end: formation, ps, crashes and H10, zero-downtime deploys,
rollback, sleep and wake, restarts of hoist itself, log floods."""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer, Load, commit_files, example_files, make_repo
from tests.e2e.procs import dyno_groups

MARKER = f"HOIST_TEST_MARKER={uuid.uuid4().hex}"
CRASH_FLAG = Path(tempfile.gettempdir()) / f"hoist-crash-{uuid.uuid4().hex}"

APP_PY = f'''import os, signal
from flask import Flask
if os.environ.get("BOOT_FAIL") or os.path.exists({str(CRASH_FLAG)!r}):
    raise SystemExit("failing at boot on purpose")
app = Flask(__name__)

@app.route("/")
def index():
    return f"{{os.environ.get('GREETING', 'Hello')}} from CODE ({{os.environ.get('DYNO', '?')}})\\n"

@app.route("/die")
def die():
    open({str(CRASH_FLAG)!r}, "w").close()
    os.kill(os.getppid(), signal.SIGKILL)
    return "bye"
'''
PROCFILE = "web: gunicorn app:app\nworker: python worker.py\nflood: python flood.py\n"
WORKER_PY = "import time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(1)\n"
# About 10 MB/s: 1 000 lines of 1 000 bytes every 0.1 s.
FLOOD_PY = ("import sys, time\nline = 'x' * 999 + '\\n'\nwhile True:\n    t = time.monotonic()\n"
            "    sys.stdout.write(line * 1000)\n    sys.stdout.flush()\n    time.sleep(max(0, 0.1 - time.monotonic() + t))\n")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[HoistServer]:
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user",
                      extra_env={"HOIST_STOP_GRACE": "3", "HOIST_SLEEP_AFTER": "0.05", "HOIST_MEMORY_INTERVAL": "1",
                                 "HOIST_BOOT_TIMEOUT": "30"})
    srv.start()
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()
    CRASH_FLAG.unlink(missing_ok=True)
    remove_app_users(workdir)


def files(code: str = "v1") -> dict[str, str]:
    f = example_files("hello")
    f["app.py"] = APP_PY.replace("CODE", code)
    f["Procfile"] = PROCFILE
    f["worker.py"] = WORKER_PY
    f["flood.py"] = FLOOD_PY
    return f


def running(marker: str = MARKER) -> dict[str, int]:
    """DYNO -> number of distinct process groups (a duplicate dyno shows as 2)."""
    return {d: len(g) for d, g in dyno_groups(marker).items()}


def wait(cond, timeout: float = 30, what="") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what() if callable(what) else what}")
        time.sleep(0.1)


def test_formation_scale_ps_and_types_removed_from_the_procfile(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "dyn", files(), server.env())
    server.cli("apps:create", "dyn", cwd=repo)
    server.cli("config:set", MARKER, cwd=repo)
    server.push(repo)
    assert server.app_get("dyn").text.startswith("Hello from v1")
    out = server.cli("ps:scale", "web=2", "worker=1", cwd=repo).stdout
    assert "web at 2" in out and "worker at 1" in out
    wait(lambda: running() == {"web.1": 1, "web.2": 1, "worker.1": 1}, what="web=2 worker=1 running")
    server.cli("ps:scale", "worker+1", cwd=repo)
    wait(lambda: running().get("worker.2") == 1, what="worker+1")
    server.cli("ps:scale", "worker-1", cwd=repo)
    wait(lambda: "worker.2" not in running(), what="worker-1")
    bad = server.cli("ps:scale", "nope=1", cwd=repo, check=False)
    assert bad.returncode != 0 and "Couldn't find that process type (nope)" in bad.stdout + bad.stderr
    bad = server.cli("ps:scale", "worker-5", cwd=repo, check=False)
    assert bad.returncode != 0 and "below 0" in bad.stdout + bad.stderr
    wait(lambda: " MB" in server.cli("ps", cwd=repo).stdout, 10, "memory in ps")
    ps = server.cli("ps", cwd=repo).stdout
    assert "=== web (2): gunicorn app:app" in ps and "web.2: up" in ps and "worker.1: up" in ps and "(v3)" in ps
    dynos = server.api("GET", "/apps/dyn/dynos").json()
    assert all(isinstance(d["memory_mb"], float) and d["memory_mb"] > 1 for d in dynos)
    # A release whose Procfile has no worker stops the worker, though the formation still says 1.
    f = files()
    f["Procfile"] = "web: gunicorn app:app\n"
    commit_files(repo, f, server.env(), "no worker")
    server.push(repo)
    wait(lambda: running() == {"web.1": 1, "web.2": 1}, what="worker gone")
    commit_files(repo, files(), server.env(), "worker back")
    server.push(repo)
    wait(lambda: running() == {"web.1": 1, "web.2": 1, "worker.1": 1}, what="worker back")


def test_ps_stop_and_restart(server: HoistServer, workdir: Path) -> None:
    before = dyno_groups(MARKER)["worker.1"]
    out = server.cli("ps:stop", "worker.1", "-a", "dyn").stdout
    assert "formation starts it again" in out
    wait(lambda: dyno_groups(MARKER).get("worker.1", before) - before != set(), what="worker.1 back with a new pid")
    webs = {n: dyno_groups(MARKER)[n] for n in ("web.1", "web.2")}
    server.cli("ps:restart", "web", "-a", "dyn")
    wait(lambda: all(dyno_groups(MARKER).get(n, webs[n]) != webs[n] for n in webs) and running()["web.1"] == 1,
         what="webs restarted")
    logs = server.cli("logs", "-n", "500", "-a", "dyn").stdout
    assert "heroku[worker.1]: State changed from up to down" in logs
    assert "heroku[web.1]: Restarting" in logs


def test_zero_downtime_deploys_and_kill_9(server: HoistServer, workdir: Path) -> None:
    server.wait_for("dyn", "from v1")
    with Load(server, "dyn", interval=0.02) as load:
        for greeting in ("Hi", "Hey"):
            server.cli("config:set", f"GREETING={greeting}", "-a", "dyn")
        time.sleep(0.3)
    assert load.failures == [], load.failures[:5]
    assert load.ok > 20 and any(b.startswith("Hey") for b in load.bodies)
    with Load(server, "dyn", interval=0.02) as load:
        os.kill(min(dyno_groups(MARKER)["web.1"]), signal.SIGKILL)
        wait(lambda: server.api("GET", "/apps/dyn/dynos/web.1").json()["state"] == "up", 15, "web.1 back")
        time.sleep(0.5)
    assert len(load.failures) <= 2, load.failures  # only requests in flight on the killed dyno
    for groups in dyno_groups(MARKER).values():  # kill -9 of every dyno at once
        for g in groups:
            os.killpg(g, signal.SIGKILL)
    wait(lambda: running() == {"web.1": 1, "web.2": 1, "worker.1": 1}, 20, "all dynos back")
    server.wait_for("dyn", "Hey from v1", timeout=20)


def test_crash_loop_shows_crashed_and_h10_then_recovers(server: HoistServer, workdir: Path) -> None:
    server.cli("ps:scale", "web=1", "-a", "dyn")
    wait(lambda: "web.2" not in running(), what="web=1")
    try:
        # Kills the dyno's gunicorn master (the worker may still answer); its reboots now fail.
        server.app_get("dyn", "/die")
        wait(lambda: server.app_get("dyn").status_code == 503, 10, "H10")
        r = server.app_get("dyn")
        assert "Application error" in r.text and "H10" in r.text
        # Crashed lasts the restart backoff, between boot attempts that take seconds on a busy machine:
        # polled through the API (what `ps` reads), which answers faster than a CLI run.
        wait(lambda: server.api("GET", "/apps/dyn/dynos/web.1").json()["state"] == "crashed", 30,
             lambda: server.cli("ps", "-a", "dyn").stdout + server.cli("logs", "-n", "40", "-a", "dyn").stdout)
        logs = server.cli("logs", "-n", "300", "-a", "dyn").stdout
        assert "heroku[web.1]: Process exited with status 137 (killed by signal 9)" in logs
        assert "heroku[web.1]: State changed from up to crashed" in logs
        assert "code=H10" in logs
    finally:
        CRASH_FLAG.unlink(missing_ok=True)
    server.wait_for("dyn", "from v1", timeout=30)


def test_rollback_serves_the_old_code_and_failed_releases_are_not_eligible(server: HoistServer, workdir: Path) -> None:
    repo = workdir / "dyn"
    v_old = server.api("GET", "/apps/dyn/releases").json()[-1]["version"]
    commit_files(repo, {"app.py": APP_PY.replace("CODE", "v2")}, server.env(), "v2")
    server.push(repo)
    server.wait_for("dyn", "from v2")
    bad = server.cli("config:set", "BOOT_FAIL=1", "-a", "dyn", check=False)
    rels = server.api("GET", "/apps/dyn/releases").json()
    failed = rels[-1]
    # It did not boot (no release command failed): "expired", as the heroku CLI shows it.
    assert failed["status"] == "expired" and not failed["eligible_for_rollback"] and not failed["current"]
    assert bad.returncode != 0 or "fail" in bad.stdout.lower()
    refused = server.cli("rollback", f"v{failed['version']}", "-a", "dyn", check=False)
    assert refused.returncode != 0 and "roll back to a release that succeeded" in refused.stdout + refused.stderr
    out = server.cli("rollback", f"v{v_old}", "-a", "dyn").stdout
    assert f"v{v_old}" in out
    server.wait_for("dyn", "Hey from v1")
    newest = server.api("GET", "/apps/dyn/releases").json()[-1]
    assert newest["description"] == f"Rollback to v{v_old}" and newest["current"] and newest["status"] == "succeeded"
    info = server.cli("releases:info", f"v{newest['version']}", "-a", "dyn").stdout
    assert f"Rollback to v{v_old}" in info


def test_sleeping_app_costs_no_process_and_wakes_on_a_request(server: HoistServer) -> None:
    assert "Sleep is on" in server.cli("ps:sleep", "on", "-a", "dyn").stdout
    wait(lambda: "web.1" not in running(), 20, "web idles and its process is gone")
    assert "web.1: idle" in server.cli("ps", "-a", "dyn").stdout
    assert "worker.1" in running()  # workers do not sleep
    t0 = time.monotonic()
    r = server.app_get("dyn")
    took = time.monotonic() - t0
    assert r.status_code == 200 and "from v1" in r.text
    assert took < 5, took
    assert "web.1: up" in server.cli("ps", "-a", "dyn").stdout
    logs = server.cli("logs", "-n", "300", "-a", "dyn").stdout
    assert "State changed from up to idle" in logs
    server.cli("ps:sleep", "off", "-a", "dyn")
    forbidden = httpx.post(f"{server.url}/internal/wake/dyn", headers={"X-Hoist-Wake-Secret": "guess"})
    assert forbidden.status_code == 403


def test_log_flood_keeps_hoist_responsive(server: HoistServer) -> None:
    server.cli("ps:scale", "flood=1", "-a", "dyn")
    try:
        wait(lambda: "flood.1" in running(), 15, "flood running")
        time.sleep(1)
        worst = 0.0
        for _ in range(5):
            t0 = time.monotonic()
            assert server.api("GET", "/apps/dyn").status_code == 200
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.3)
        assert worst < 1.0, worst
        logs = server.cli("logs", "-n", "1500", "-a", "dyn").stdout
        assert "L10 (output buffer overflow)" in logs
    finally:
        server.cli("ps:scale", "flood=0", "-a", "dyn")
    wait(lambda: "flood.1" not in running(), 15, "flood stopped")


def test_hoist_restart_brings_the_formation_back_without_duplicates(server: HoistServer) -> None:
    formation = {"web.1": 1, "worker.1": 1}
    server.cli("ps:scale", "web=1", "worker=1", "-a", "dyn")
    wait(lambda: running() == formation, 15, "steady")
    assert server.stop() == 0
    assert running() == {}, "a clean stop leaves no dyno behind"
    t0 = time.monotonic()
    server.start()
    wait(lambda: running() == formation, 15, "formation back after restart")
    server.wait_for("dyn", "from v1", timeout=15)
    assert time.monotonic() - t0 < 20
    old = dyno_groups(MARKER)
    server.stop(signal.SIGKILL)
    assert running() == formation  # the dynos outlive a kill -9 of hoist...
    server.start()
    # ...and the next hoist adopts them as they run (issue 18: apps do not notice a restart of hoist):
    # no duplicates, and nothing restarted.
    wait(lambda: running() == formation, 20, lambda: f"restart: {old} -> {dyno_groups(MARKER)}")
    time.sleep(1.0)  # and nothing starts a second copy later
    assert running() == formation and dyno_groups(MARKER) == old
    assert any("left running by a previous hoist" in line for line in server.output)
    server.wait_for("dyn", "from v1", timeout=15)


def test_release_phase_output_is_kept_for_releases_output(server: HoistServer, workdir: Path) -> None:
    f = example_files("hello")
    f["Procfile"] = "web: gunicorn app:app\nrelease: echo migrating on $DYNO; echo migrated\n"
    repo = make_repo(workdir / "relout", f, server.env())
    server.cli("apps:create", "relout", cwd=repo)
    server.push(repo)
    server.cli("config:set", "STAGE=two", "-a", "relout")  # a config release runs the release phase too
    rels = server.api("GET", "/apps/relout/releases").json()
    assert all(r["output_stream_url"] for r in rels if r["version"] > 1), rels
    out = server.cli("releases:output", "-a", "relout").stdout
    assert "Running release command: echo migrating" in out and "migrating on release.1" in out, out
    assert "migrating on release.1" in server.cli("releases:output", f"v{rels[-2]['version']}", "-a", "relout").stdout
    # The heroku CLI streams output_stream_url with no token: the signature is the credential.
    url = httpx.URL(rels[-1]["output_stream_url"])
    bare = f"http://127.0.0.1:{url.port}{url.path}"
    got = httpx.get(bare, headers={"Host": f"localhost:{url.port}"}, timeout=10)
    assert got.status_code == 200 and "migrated" in got.text
    forged = bare[:-4] + ("0000" if not bare.endswith("0000") else "1111")
    assert httpx.get(forged, headers={"Host": f"localhost:{url.port}"}, timeout=10).status_code == 404
    other = bare.replace("/relout/", "/dyn/")  # another app's name with this signature
    assert httpx.get(other, headers={"Host": f"localhost:{url.port}"}, timeout=10).status_code == 404
    # An app without a release phase has no output, and says why.
    assert server.api("GET", "/apps/dyn/releases").json()[-1]["output_stream_url"] is None
    none = server.cli("releases:output", "-a", "dyn", check=False)
    assert none.returncode != 0 and "release:" in none.stderr, none.stderr
