"""Apps as their authors wrote them: no Procfile, end-of-life Pythons by opt-in, gunicorn 19/20
needing pkg_resources, and gunicorn 25.1+'s control socket under a modest HOIST_HOME."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer, commit_files, make_repo

APP = '''import os
import sys

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "%s from Python %s (%s)" % (os.environ.get("GREETING", "Hello"), sys.version.split()[0], os.environ["DYNO"])
'''
# The 2017 tutorial's pins, as its requirements.txt had them.
TUTORIAL_2017 = "Flask==1.0.2\npsycopg2==2.7.3.2\ngunicorn==19.7.1\n"
# The same app frozen in 2019 with psycopg2-binary, which has wheels for Python 3.8.
FREEZE_2019 = ("click==7.0\nFlask==1.0.2\ngunicorn==19.9.0\nitsdangerous==1.1.0\nJinja2==2.10.1\nMarkupSafe==1.1.1\n"
               "psycopg2-binary==2.8.6\nWerkzeug==0.15.5\n")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[HoistServer]:
    # A modest HOIST_HOME, as people choose one: long enough that a 7-letter app's slug path
    # plus `.gunicorn/gunicorn.ctl` passes the 107 bytes a Unix socket path may have.
    srv = HoistServer(home=workdir / "hoist-home", user_home=workdir / "user")
    srv.start()
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()
    remove_app_users(workdir)


def app_repo(server: HoistServer, workdir: Path, name: str, files: dict[str, str]) -> Path:
    repo = make_repo(workdir / name, files, server.env())
    server.cli("apps:create", name, cwd=repo)
    return repo


def test_a_push_without_procfile_is_released_and_answers_h14_until_web_is_declared(
        server: HoistServer, workdir: Path) -> None:
    repo = app_repo(server, workdir, "noproc", {"app.py": APP, "requirements.txt": "flask\ngunicorn\n",
                                                ".python-version": "3.12\n"})
    push = server.push(repo)
    assert ("remote:  !     Warning: Your application is missing a Procfile. This file tells hoist how to run your "
            "application.") in push.stderr
    assert "Released v2" in push.stderr
    r = server.app_get("noproc")
    assert r.status_code == 503 and "H14" in r.text
    assert "web." not in server.cli("ps", cwd=repo).stdout
    router = server.cli("logs", "-s", "router", "-a", "noproc").stdout
    assert 'at=error code=H14 desc="No web processes running"' in router

    commit_files(repo, {"Procfile": "web: gunicorn app:app\n"}, server.env(), "declare web")
    push = server.push(repo)
    assert "Released v3" in push.stderr
    assert server.wait_for("noproc", "Hello from Python 3.12.1 (web.1)").status_code == 200


def test_the_2017_tutorial_on_python_36_by_opt_in(server: HoistServer, workdir: Path) -> None:
    repo = app_repo(server, workdir, "tut2017", {"app.py": APP, "requirements.txt": TUTORIAL_2017,
                                                 "runtime.txt": "python-3.6.2\n", "Procfile": "web: gunicorn app:app\n"})
    refused = server.push(repo, check=False)
    assert refused.returncode != 0
    assert ("remote:  !     runtime.txt asks for python-3.6.2, which reached end-of-life; delete runtime.txt and put "
            "3.13 in .python-version, or, to build on this machine's end-of-life Python 3.6.15 anyway, run "
            "`hoist config:set HOIST_ALLOW_EOL_PYTHON=1` and push again") in refused.stderr
    server.cli("config:set", "HOIST_ALLOW_EOL_PYTHON=1", cwd=repo)
    started = time.monotonic()
    push = server.push(repo)
    build_seconds = time.monotonic() - started
    assert "remote:  !     Warning: Python 3.6.15 reached end-of-life and gets no security fixes" in push.stderr
    assert "Installing setuptools 59.6.0" in push.stderr
    assert server.app_get("tut2017").text == "Hello from Python 3.6.15 (web.1)"
    print(f"\nPython 3.6 tutorial app: first push {build_seconds:.1f} s")


def test_a_2019_freeze_on_python_38_by_opt_in(server: HoistServer, workdir: Path) -> None:
    repo = app_repo(server, workdir, "frz2019", {"app.py": APP, "requirements.txt": FREEZE_2019,
                                                 ".python-version": "3.8\n", "Procfile": "web: gunicorn app:app\n"})
    server.cli("config:set", "HOIST_ALLOW_EOL_PYTHON=1", cwd=repo)
    started = time.monotonic()
    push = server.push(repo)
    build_seconds = time.monotonic() - started
    assert "remote:  !     Warning: Python 3.8.18 reached end-of-life" in push.stderr
    assert server.app_get("frz2019").text == "Hello from Python 3.8.18 (web.1)"
    # The opt-in stays the app's choice: every build says so again.
    commit_files(repo, {"app.py": APP.replace("Hello", "Hi")}, server.env(), "v2")
    push = server.push(repo)
    assert "remote:  !     Warning: Python 3.8.18 reached end-of-life" in push.stderr
    assert server.app_get("frz2019").text == "Hi from Python 3.8.18 (web.1)"
    print(f"\nPython 3.8 freeze: first push {build_seconds:.1f} s")


def test_gunicorn_20_on_python_311_starts_with_herokus_setuptools(server: HoistServer, workdir: Path) -> None:
    repo = app_repo(server, workdir, "gunic20", {"app.py": APP, "requirements.txt": "flask\ngunicorn==20.1.0\n",
                                                 ".python-version": "3.11\n", "Procfile": "web: gunicorn app:app\n"})
    push = server.push(repo)
    assert "Installing setuptools 70.3.0 (as on Heroku for Python 3.12 and older)" in push.stderr
    assert server.app_get("gunic20").text == "Hello from Python 3.11.7 (web.1)"


def test_no_control_socket_error_for_a_7_letter_app(server: HoistServer, workdir: Path) -> None:
    repo = app_repo(server, workdir, "sockets", {"app.py": APP, "requirements.txt": "flask\ngunicorn\n",
                                                 ".python-version": "3.12\n", "Procfile": "web: gunicorn app:app\n"})
    slugs = server.home / "apps" / "sockets" / "slugs"
    server.push(repo)
    assert server.app_get("sockets").text == "Hello from Python 3.12.1 (web.1)"
    slug = next(slugs.iterdir())
    assert len(str(slug / ".gunicorn" / "gunicorn.ctl")) > 107  # where gunicorn 25.1+ would put it by default
    server.cli("ps:scale", "web=2", cwd=repo)
    deadline = time.monotonic() + 30
    while "web.2: up" not in server.cli("ps", cwd=repo).stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    logs = server.cli("logs", "-n", "500", "-a", "sockets").stdout
    listening = [ln for ln in logs.splitlines() if "Control socket listening at" in ln]
    assert len(listening) == 2 and all(" at /tmp/hoist-dyno-" in ln for ln in listening), logs
    assert len({ln.rsplit(" ", 1)[1] for ln in listening}) == 2  # one socket per dyno
    assert "AF_UNIX path too long" not in logs and "Control server error" not in logs
