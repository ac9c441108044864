"""Heroku's order (push, then add Postgres) and every failure labelled: build, release phase, boot; the
dyno's last lines and exit status at the end of a refused push; a daemonizing web command named; each
command that makes a release says when it failed, in hoist's CLI and in the real heroku CLI's release list."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.e2e.harness import HoistServer, commit_files, make_repo
from tests.e2e.heroku_cli import Heroku, heroku_bin

NEEDS_DB = '''import os
from flask import Flask

DATABASE_URL = os.environ["DATABASE_URL"]
app = Flask(__name__)


@app.route("/")
def index():
    return "database at %s\\n" % DATABASE_URL.rsplit("/", 1)[-1]


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
'''
FILES = {"app.py": NEEDS_DB, "requirements.txt": "flask\ngunicorn\n", "Procfile": "web: python app.py\n",
         ".python-version": "3.12\n"}
LIVE_CRASHED = ("Release v2 is live, but web.1 crashed while booting: requests get H10 (App crashed) until it starts. "
                "hoist restarts it with backoff, and every config change or add-on restarts it too.")
HINT = ("Hint: the app reads DATABASE_URL, which is not set: add Postgres: hoist addons:create heroku-postgresql. The "
        "app restarts with it; no push needed")


def remote_lines(stderr: str) -> list[str]:
    """What the server said during a push (git's `remote:` lines), without git's padding."""
    return [ln[len("remote: "):].rstrip() for ln in stderr.splitlines() if ln.startswith("remote: ")]


def wait_status(server: HoistServer, app: str, status: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        r = server.app_get(app)
        last = (r.status_code, r.text[:200])
        if r.status_code == status:
            return r.text
        time.sleep(0.2)
    raise AssertionError(f"{app} never answered {status}; last {last}")


def test_a_first_push_that_crashes_is_released_and_postgres_makes_it_work_with_no_second_push(
        server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "order", FILES, server.env())
    server.cli("create", "order", cwd=repo)
    push = server.git(repo, "push", "heroku", "HEAD:master")  # the tutorial's words; accepted, as on Heroku
    said = remote_lines(push.stderr)
    at = said.index("       Released v2")
    assert said[at + 2:at + 5] == [" !     " + LIVE_CRASHED, " !     " + HINT, " !     The last lines of web.1:"]
    assert "       KeyError: 'DATABASE_URL'" in said
    assert said[-1] == " !     web.1 exited with status 1 while booting."
    page = wait_status(server, "order", 503)
    assert "H10" in page or "Application error" in page
    logs = server.cli("logs", "-n", "400", "-a", "order").stdout
    assert 'heroku[router]: at=error code=H10 desc="App crashed"' in logs
    assert "app[api]: Build succeeded" in logs and "Build failed" not in logs
    rel = server.api("GET", "/apps/order/releases/2").json()
    assert rel["status"] == "succeeded" and rel["current"] and rel["description"].startswith("Deploy ")

    out = server.cli("addons:create", "heroku-postgresql:hobby-dev", cwd=repo).stdout
    assert out.startswith("Creating heroku-postgresql:hobby-dev on order... done\n")
    db = server.api("GET", "/apps/order/config-vars").json()["DATABASE_URL"].rsplit("/", 1)[-1]
    assert server.wait_for("order", f"database at {db}", timeout=60).status_code == 200


def test_once_it_serves_a_release_that_does_not_boot_is_refused_by_every_command(
        server: HoistServer, workdir: Path) -> None:
    repo = workdir / "order"
    unset = server.cli("config:unset", "DATABASE_URL", cwd=repo, check=False)
    assert unset.returncode == 1
    assert unset.stdout == "Unsetting DATABASE_URL and restarting order... failed\n"
    err = unset.stderr.splitlines()
    assert err[0] == " !     Release v4 failed to boot, so it was not deployed; the previous release keeps serving (v3)."
    assert err[1] == " !     " + HINT
    assert err[-3] == " !     web.1 exited with status 1 while booting."
    assert err[-2] == (" !     The release with DATABASE_URL unset failed, so nothing changed: the config is as before. "
                       "Fix the value and try again.")
    assert err[-1] == " !    release v4 failed (see above)"
    rel = server.api("GET", "/apps/order/releases/4").json()
    assert rel["status"] == "expired" and not rel["current"]
    assert rel["description"] == "Remove DATABASE_URL config vars (not deployed: web.1 exited with status 1 while booting)"
    assert server.app_get("order").status_code == 200  # v3 keeps serving
    # Nothing changed (issue 18: the stored config is the current release's), so one-off dynos run v3 with it.
    assert "DATABASE_URL" in server.api("GET", "/apps/order/config-vars").json()
    ran = server.cli("run", "echo", "ran", cwd=repo)
    assert ran.stdout == "ran\n" and ran.stderr == "", ran.stderr
    url = server.api("GET", "/apps/order/releases/3/config-vars").json()["DATABASE_URL"]
    assert server.cli("config:set", f"DATABASE_URL={url}", cwd=repo).stdout.startswith(
        "Setting DATABASE_URL and restarting order... done, v5\n")

    commit_files(repo, {"app.py": NEEDS_DB.replace('os.environ["DATABASE_URL"]', 'os.environ["DATABASE_URI"]')},
                 server.env(), "typo")
    push = server.git(repo, "push", "heroku", "HEAD:master", check=False)
    said = remote_lines(push.stderr)
    assert push.returncode != 0
    assert (" !     Push rejected: release v6 failed to boot, so it was not deployed; the previous release keeps "
            "serving (v5).") in said
    assert " !     Hint: the app reads DATABASE_URI, which is not set: set it: hoist config:set DATABASE_URI=VALUE. The " \
           "app restarts with it; no push needed" in said
    assert said[-2] == "       KeyError: 'DATABASE_URI'" and said[-1] == " !     web.1 exited with status 1 while booting."
    assert server.api("GET", "/apps/order/builds").json()[-1]["status"] == "succeeded"  # the build was fine
    logs = server.cli("logs", "-n", "400", "-a", "order").stdout
    assert "Build failed -- check your build output" not in logs
    assert "app[api]: Release v6 failed: web.1 exited with status 1 while booting" in logs
    report = server.cli("releases:output", "v6", cwd=repo).stdout
    assert report.startswith(" !     Release v6 failed to boot") and "KeyError: 'DATABASE_URI'" in report
    server.git(repo, "reset", "-q", "--hard", "HEAD~1")


def test_a_failed_release_phase_and_a_daemonizing_web_command_are_named(server: HoistServer, workdir: Path) -> None:
    repo = workdir / "order"
    commit_files(repo, {"Procfile": "web: python app.py\nrelease: python -c \"print('migrating'); raise SystemExit(2)\"\n"},
                 server.env(), "release phase")
    said = remote_lines(server.git(repo, "push", "heroku", "HEAD:master", "--force", check=False).stderr)
    assert (" !     Push rejected: release v7 failed: the release command `python -c \"print('migrating'); raise "
            "SystemExit(2)\"` exited with status 2; the previous release keeps serving") in said
    assert said[-1] == " !     release.1 exited with status 2."
    assert server.api("GET", "/apps/order/releases/7").json()["status"] == "failed"

    commit_files(repo, {"Procfile": "web: gunicorn --daemon app:app\n"}, server.env(), "daemon")
    said = remote_lines(server.git(repo, "push", "heroku", "HEAD:master", "--force", check=False).stderr)
    daemon = [ln for ln in said if "daemonized" in ln]
    assert daemon and daemon[0].startswith(" !     web.1 exited with status 0 while booting and left `gunicorn --daemon app:app`")
    assert daemon[0].endswith("` listening on $PORT in the background: `--daemon` in the Procfile's web command "
                              "daemonized the server. A dyno's command must stay in the foreground (as on Heroku); "
                              "remove `--daemon` from the Procfile and push again")
    assert said[-1] == " !     web.1 exited with status 0 while booting."
    assert server.app_get("order").status_code == 200
    server.git(repo, "reset", "-q", "--hard", "HEAD~2")


@pytest.mark.skipif(heroku_bin() is None, reason="the heroku CLI is not installed: run .ci/run")
def test_the_heroku_cli_sees_each_release_with_its_right_label(server: HoistServer, workdir: Path) -> None:
    heroku = Heroku(server, workdir / "heroku-home")
    listed = heroku("releases", "-a", "order").stdout
    assert re.search(r"v4\s+Remove DATABASE_URL config vars \(not deployed: web\.1 exited with status 1 while "
                     r"booting\) release expired", listed), listed
    assert re.search(r"v7\s+Deploy \w+ release command failed", listed), listed
    assert "release command failed" not in "\n".join(ln for ln in listed.splitlines() if " v4 " in ln)
    output = heroku("releases:output", "v4", "-a", "order").stdout
    assert "Release v4 failed to boot" in output and "KeyError: 'DATABASE_URL'" in output
