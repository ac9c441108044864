"""Heroku CI before a release, with real parts: real pushes and builds, the tests in a test dyno with a
throwaway database on the real PostgreSQL (and a throwaway Redis), a failing and a passing run gating the deploy, a hanging run
stopped at its time limit with its whole test dyno killed, and the runs kept with their output."""
from __future__ import annotations

import json
import re
import socket
import stat
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo

APP = "citest"
APP_JSON = {"environments": {"test": {
    "scripts": {"test-setup": "echo setup-ran-in-$DYNO", "test": "python ci_check.py"},
    "addons": ["heroku-postgresql", "heroku-redis"],
    "env": {"EXPECTED_GREETING": "from hoist"},
}}}
# The test: uses the throwaway database, prints what the gate needs, and passes, fails or hangs as told.
CI_CHECK = '''
import os, subprocess, sys, time
import psycopg
url = os.environ["DATABASE_URL"]
with psycopg.connect(url) as conn:
    conn.execute("CREATE TABLE t (x int)")
    conn.execute("INSERT INTO t VALUES (42)")
    db = conn.execute("SELECT current_database()").fetchone()[0]
print("throwaway-url", url, flush=True)
print("throwaway-redis", os.environ["REDIS_URL"], flush=True)
print("ci-env", os.environ.get("CI"), os.environ.get("EXPECTED_GREETING"), flush=True)
verdict = open("verdict.txt").read().strip()
if verdict == "hang":
    subprocess.Popen(["sleep", "1000"], env={**os.environ, "CI_MARKER": "x"})  # a child the kill must reach
    subprocess.Popen(["bash", "-c", "exec -a ci-hang-marker-%s sleep 1000" % os.environ["HEROKU_TEST_RUN_NUMBER"]])
    print("hanging now", flush=True)
    time.sleep(1000)
print("verdict", verdict, flush=True)
sys.exit(0 if verdict == "pass" else 3)
'''


@pytest.fixture(scope="module")
def repo(server: HoistServer, workdir: Path) -> Path:
    files = example_files("hello")
    files["requirements.txt"] = files["requirements.txt"] + "psycopg[binary]\n"
    files["app.json"] = json.dumps(APP_JSON)
    files["ci_check.py"] = CI_CHECK
    files["verdict.txt"] = "fail\n"
    path = make_repo(workdir / "ci", files, server.env())
    server.cli("apps:create", APP, cwd=path)
    server.cli("ci:enable", "--time-limit", "15", "-a", APP)
    return path


def runs(server: HoistServer) -> list[dict[str, object]]:
    return server.api("GET", f"/apps/{APP}/test-runs").json()


def test_a_failing_run_rejects_the_push_and_a_passing_one_deploys(server: HoistServer, repo: Path) -> None:
    refused = server.push(repo, check=False)
    assert refused.returncode != 0
    err = refused.stderr
    assert "remote:        setup-ran-in-test.1" in err  # test-setup ran first, in the test dyno
    assert "remote:        verdict fail" in err and "remote:        ci-env true from hoist" in err
    assert re.search(r"Test run #1 failed after \d+\.\ds: test exited with status 3", err)
    assert "Push rejected: test run #1 failed. The running release is unchanged." in err
    assert server.api("GET", f"/apps/{APP}/releases").json()[-1]["version"] == 1  # v1: no deploy happened

    commit_files(repo, {"verdict.txt": "pass\n"}, server.env(), "pass")
    pushed = server.push(repo)
    assert "Test run #2 succeeded" in pushed.stderr and "Released v2" in pushed.stderr
    assert "Hello from hoist" in server.wait_for(APP, "from hoist").text

    listed = server.cli("ci", "-a", APP).stdout
    assert "CI on" in listed and "failed" in listed and "succeeded" in listed
    info = server.cli("ci:info", "1", "-a", APP, check=False)
    assert info.returncode == 1 and "verdict fail" in info.stdout and "test exited with status 3" in info.stdout
    last = server.cli("ci:last", "-a", APP, check=False)
    assert last.returncode == 0 and "Test run #2 of citest: succeeded" in last.stdout

    # Each run's database was thrown away: its role and database are gone.
    for run in (1, 2):
        output = server.api("GET", f"/apps/{APP}/test-runs/{run}").json()["output"]
        url = next(line.split()[1] for line in output.splitlines() if line.strip().startswith("throwaway-url"))
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=5).close()
        redis = urlsplit(next(line.split()[1] for line in output.splitlines()
                              if line.strip().startswith("throwaway-redis")))
        assert redis.scheme == "redis" and redis.port
        with pytest.raises(OSError):  # its Redis server is stopped
            socket.create_connection((redis.hostname or "127.0.0.1", redis.port), timeout=5).close()
    # The test dynos' copies are gone; what holds them is the app's alone.
    ci_dir = server.home / "apps" / APP / "ci"
    assert list(ci_dir.iterdir()) == [] and stat.S_IMODE(ci_dir.stat().st_mode) == 0o700
    # The tests never see the app's own config (a DATABASE_URL of production, say).
    assert "DATABASE_URL" not in server.api("GET", f"/apps/{APP}/config-vars").json()


def test_a_failing_run_leaves_the_running_release_untouched(server: HoistServer, repo: Path) -> None:
    app_py = (repo / "app.py").read_text()
    commit_files(repo, {"app.py": app_py.replace("from hoist", "from v3"), "verdict.txt": "fail\n"},
                 server.env(), "v3 breaks the tests")
    refused = server.push(repo, check=False)
    assert refused.returncode != 0 and "Test run #3 failed" in refused.stderr
    assert "Hello from hoist" in server.app_get(APP).text
    assert len(server.api("GET", f"/apps/{APP}/releases").json()) == 2
    # The pushed branch did not move either: git rejected the push.
    assert "pre-receive hook declined" in refused.stderr


def test_a_hanging_test_fails_at_its_time_limit_and_its_dyno_is_killed(server: HoistServer, repo: Path) -> None:
    commit_files(repo, {"verdict.txt": "hang\n"}, server.env(), "hang")
    started = time.monotonic()
    refused = server.push(repo, check=False)
    took = time.monotonic() - started
    assert refused.returncode != 0
    assert "hanging now" in refused.stderr
    assert ("the test run went over its time limit of 15 s and was stopped (its test dyno was killed). Make the "
            "tests faster, or raise the limit: hoist ci:enable --time-limit SECONDS -a citest") in refused.stderr
    assert took < 120
    number = runs(server)[-1]["number"]
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", f"ci-hang-marker-{number}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", f"the test dyno's processes outlived the time limit: {left.stdout}"
    assert "Hello from hoist" in server.app_get(APP).text


def test_rerun_tests_the_current_release_and_exit_status_is_the_verdict(server: HoistServer, repo: Path) -> None:
    rerun = server.cli("ci:rerun", "-a", APP, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "verdict pass" in rerun.stdout and "succeeded" in rerun.stdout
    assert runs(server)[-1]["source"] == "rerun"


def test_the_dashboards_activity_tab_lists_the_runs(server: HoistServer, repo: Path) -> None:
    """Issue 15: CI runs in the dashboard, as the API has them."""
    from tests.e2e.browser import launch, login, shoot, shots_dir
    wanted = {int(str(r["number"])): str(r["status"]) for r in runs(server)}
    assert {"failed", "succeeded"} <= set(wanted.values())
    for browser in launch():
        page = login(browser, server)
        page.goto(f"{server.url}/dashboard/apps/{APP}/activity")
        card = page.locator("#ci")
        assert "on" in card.locator("p").first.inner_text()
        shown = {int(row.get_attribute("data-run")): row.locator(".state").inner_text()
                 for row in card.locator("tr[data-run]").all()}
        assert shown == wanted, (shown, wanted)
        assert "Not connected" in card.inner_text()
        shoot(page, shots_dir("ci"), "activity-ci")
        page.context.close()


def test_with_ci_off_a_push_deploys_without_tests(server: HoistServer, repo: Path) -> None:
    server.cli("ci:disable", "-a", APP)
    before = len(runs(server))
    commit_files(repo, {"verdict.txt": "fail\n"}, server.env(), "no ci")
    pushed = server.push(repo)
    assert "Test run" not in pushed.stderr and "Released v3" in pushed.stderr
    assert len(runs(server)) == before
