"""A second terminal finds the server (another port, another home) or fails fast saying what to set; as
root, hoist serves on 80/443 so that an app's redirect to https://HOST/ (Django's SECURE_SSL_REDIRECT)
reaches it with X-Forwarded-Proto https and X-Forwarded-Port 443."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import SRC, HoistServer, free_port, make_repo


def terminal(home: Path, **env: str) -> dict[str, str]:
    """A new terminal: its own HOME, PATH, nothing of hoist's."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": str(SRC), **env}


def hoist(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hoist", *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_login_finds_a_server_on_another_port_and_home(server: HoistServer, workdir: Path) -> None:
    env = terminal(workdir / "second", HOIST_PORT=str(server.port))  # no HOIST_HOME: the server's is found
    r = hoist(env, "login")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"Using the admin token of the local hoist server ({server.home / 'admin-token'})."
    assert "Logged in as admin@hoist.local" in r.stdout
    assert hoist(env, "apps").returncode == 0


def test_login_fails_fast_naming_what_to_set(workdir: Path) -> None:
    dead = free_port()
    env = terminal(workdir / "third", HOIST_API_URL=f"http://localhost:{dead}")
    started = time.monotonic()
    r = hoist(env, "login")
    assert r.returncode == 1 and time.monotonic() - started < 15
    assert r.stderr == (f" !    no hoist server answers at http://localhost:{dead}; check HOIST_API_URL (or HOIST_PORT), "
                        "or start the server with `hoist server`\n")
    assert "Email" not in r.stdout + r.stderr  # nothing asked


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


REDIRECTS = '''import os
from flask import Flask, redirect, request

app = Flask(__name__)


@app.route("/")
def index():
    # What Django's SecurityMiddleware does with SECURE_SSL_REDIRECT and SECURE_PROXY_SSL_HEADER.
    if request.headers.get("X-Forwarded-Proto") != "https":
        return redirect("https://%s%s" % (request.host, request.full_path.rstrip("?")), code=301)
    return "proto=%s port=%s host=%s\\n" % (request.headers["X-Forwarded-Proto"],
                                           request.headers["X-Forwarded-Port"], request.host)
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="ports 80 and 443 need root")
def test_as_root_on_80_and_443_an_https_redirect_reaches_the_app(workdir: Path) -> None:
    if not (_free(80) and _free(443)):
        pytest.skip("ports 80 and 443 are in use on this machine")
    srv = HoistServer(home=workdir / "home443", user_home=workdir / "user443", port=80, tls_port=443)
    srv.start()
    try:
        srv.cli("login")
        repo = make_repo(workdir / "redir", {"app.py": REDIRECTS, "requirements.txt": "flask\ngunicorn\n",
                                             "Procfile": "web: gunicorn app:app\n", ".python-version": "3.12\n"},
                         srv.env())
        out = srv.cli("apps:create", "redir", cwd=repo).stdout
        assert "http://redir.localhost/ | http://localhost/redir.git" in out
        srv.push(repo)
        ca = str(srv.home / "tls" / "ca.pem")
        plain = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                "--resolve", "redir.localhost:80:127.0.0.1", "http://redir.localhost/"],
                               capture_output=True, text=True, timeout=60)
        assert plain.stdout == "301 https://redir.localhost/"
        secure = subprocess.run(["curl", "-sL", "--cacert", ca, "--resolve", "redir.localhost:80:127.0.0.1",
                                 "--resolve", "redir.localhost:443:127.0.0.1", "http://redir.localhost/"],
                                capture_output=True, text=True, timeout=60)
        assert secure.stdout == "proto=https port=443 host=redir.localhost\n", secure.stderr
    finally:
        srv.stop()
        remove_app_users(workdir)
