"""The 2017 tutorial ("the easiest possible way to throw a webapp online: Flask + Heroku + Postgres"),
replayed in its own order with each CLI and no extra step: create, `git push heroku master`, add
Postgres, `run python` creating the tables, the form, `logs`, `pg:psql`, a dataclip's CSV, `pg:pull`.
The app is examples/flask-postgres-2017 as written (its README says what differs from 2017: nothing
in the code; the end-of-life opt-in is declared in app.json)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.e2e.harness import SRC, HoistServer, example_files, make_repo
from tests.e2e.heroku_cli import heroku_bin

EXAMPLE = "flask-postgres-2017"
CREATE_TABLES = "from app import db\ndb.create_all()\nexit()\n"


@pytest.fixture(scope="module", autouse=True)
def local_postgres(server: HoistServer) -> Iterator[None]:
    """pg:pull starts hoist's local PostgreSQL (beside the home); it is stopped when the module ends."""
    yield
    server.cli("pg:local:stop", check=False)


def git_master(server: HoistServer, path: Path) -> Path:
    """The example as a tutorial user has it: a repo on `master`, as in 2017."""
    repo = make_repo(path, example_files(EXAMPLE), server.env())
    server.git(repo, "branch", "-m", "main", "master")
    return repo


def submit(server: HoistServer, app: str, email: str) -> str:
    r = httpx.post(f"http://127.0.0.1:{server.port}/prereg", data={"email": email},
                   headers={"Host": f"{app}.localhost"}, timeout=60)
    assert r.status_code == 200, r.text
    return r.text


def test_with_the_hoist_cli(server: HoistServer, workdir: Path) -> None:
    repo = git_master(server, workdir / "prereg")
    assert "Git remote heroku added" in server.cli("create", "prereg", cwd=repo).stdout
    push = server.git(repo, "push", "heroku", "master")
    assert "Set HOIST_ALLOW_EOL_PYTHON from app.json" in push.stderr and "Released v" in push.stderr
    assert "Pre-register" in server.app_get("prereg").text

    server.cli("addons:create", "heroku-postgresql:hobby-dev", cwd=repo)
    ran = server.cli("run", "python", cwd=repo, input=CREATE_TABLES)
    assert ran.returncode == 0, ran.stderr
    assert "Thank you for pre-registering!" in submit(server, "prereg", "ada@example.com")
    assert 'heroku[router]: at=info method=POST path="/prereg" host=prereg.localhost' in \
        server.cli("logs", "-n", "200", cwd=repo).stdout
    rows = server.cli("pg:psql", cwd=repo, input="select * from users;\n").stdout
    assert re.search(r"^\s*1 \| ada@example\.com$", rows, re.M), rows

    made = server.cli("dataclips:create", "signups", "--query", "select email from users order by id", cwd=repo).stdout
    csv_url = re.search(r"CSV:\s+(\S+)", made).group(1)  # type: ignore[union-attr]
    assert httpx.get(csv_url, timeout=30).text.splitlines() == ["email", "ada@example.com"]

    pulled = server.cli("pg:pull", "DATABASE_URL", "mylocaldb", cwd=repo).stdout
    assert re.match(r"Pulling DATABASE_URL into mylocaldb \(the local PostgreSQL, 127\.0\.0\.1:\d+\)\.\.\. "
                    r"\(created mylocaldb\) done\n", pulled), pulled
    local = server.cli("pg:local:psql", "mylocaldb", "-c", "select email from users").stdout
    assert "ada@example.com" in local


@pytest.mark.skipif(heroku_bin() is None, reason="the heroku CLI is not installed: run .ci/run")
def test_with_the_heroku_cli(server: HoistServer, workdir: Path) -> None:
    home = workdir / "tutorial-home"
    home.mkdir()
    env = heroku_shell_env(server, home)
    repo = git_master(server, workdir / "prereg-heroku")

    def heroku(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["heroku", *args], cwd=repo, env=env, input=input, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, f"heroku {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    heroku("create", "prereg-hk")
    push = subprocess.run(["git", "push", "heroku", "master"], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=900)
    assert push.returncode == 0, push.stderr
    assert "Pre-register" in server.app_get("prereg-hk").text
    assert "heroku/python" in heroku("buildpacks").stdout

    heroku("addons:create", "heroku-postgresql:hobby-dev")
    heroku("run", "python", input=CREATE_TABLES)
    assert "Thank you for pre-registering!" in submit(server, "prereg-hk", "grace@example.com")
    assert 'heroku[router]: at=info method=POST path="/prereg"' in heroku("logs", "-n", "200").stdout
    rows = heroku("pg:psql", input="select * from users;\n").stdout
    assert re.search(r"^\s*1 \| grace@example\.com$", rows, re.M), rows
    # The heroku CLI has no dataclip command (dataclips are Heroku's web UI): hoist's CLI makes one.
    made = server.cli("dataclips:create", "signups", "--query", "select email from users", "-a", "prereg-hk").stdout
    assert httpx.get(re.search(r"CSV:\s+(\S+)", made).group(1), timeout=30).text.splitlines()[1:] == \
        ["grace@example.com"]  # type: ignore[union-attr]
    pull = heroku("pg:pull", "DATABASE_URL", "mylocaldb_hk")
    assert "Pulling complete." in pull.stdout + pull.stderr
    local = subprocess.run(["psql", "mylocaldb_hk", "-At", "-c", "select email from users"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert local.stdout.strip() == "grace@example.com", local.stderr


def heroku_shell_env(server: HoistServer, home: Path) -> dict[str, str]:
    """The environment after `eval "$(hoist heroku:env)"` in a terminal with the heroku CLI on PATH."""
    binary = heroku_bin()
    assert binary is not None
    base = server.env()
    base.update({"HOME": str(home), "HOIST_API_URL": server.url, "HOIST_API_KEY": server.token,
                 "HOIST_HOME": str(server.home), "PATH": f"{binary.parent}:{base.get('PATH', '/usr/bin:/bin')}",
                 "PYTHONPATH": str(SRC), "NO_COLOR": "1"})
    for noisy in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        base.pop(noisy, None)
    script = f'eval "$({sys.executable} -m hoist heroku:env)" && env -0'
    out = subprocess.run(["bash", "-c", script], env=base, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    env = dict(kv.split("=", 1) for kv in out.stdout.decode().split("\0") if "=" in kv)
    assert env["HEROKU_HOST"] == f"http://127.0.0.1:{server.port}" and env["HEROKU_API_KEY"] == server.token
    assert env["GIT_SSL_CAINFO"] == str(server.home / "tls" / "ca.pem") == env["NODE_EXTRA_CA_CERTS"]
    assert os.path.exists(Path(home) / ".pgpass")
    return env
