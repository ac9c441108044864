"""Bad input gets a clear error and changes nothing (issue 2's list)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo


@pytest.mark.parametrize("name", ["../x", "Upper", "a" * 40, "x", "-dash", "dash-", "a b", "semi;colon"])
def test_invalid_app_names_are_refused(server: HoistServer, name: str) -> None:
    proc = server.cli("apps:create", "--no-remote", "--", name, check=False)
    assert proc.returncode == 1
    assert "is not a valid app name" in proc.stderr and "lower-case letters" in proc.stderr
    assert server.api("GET", "/apps").json() == [] or all(a["name"] != name for a in server.api("GET", "/apps").json())


def test_empty_name_gets_a_random_one_and_a_taken_name_is_refused(server: HoistServer) -> None:
    created = server.api("POST", "/apps", json={"name": ""}).json()
    assert created["name"].count("-") == 2
    server.cli("apps:create", "taken-name", "--no-remote")
    proc = server.cli("apps:create", "taken-name", "--no-remote", check=False)
    assert proc.returncode == 1 and "Name taken-name is already taken" in proc.stderr


def test_config_set_without_equals_or_with_a_bad_key(server: HoistServer) -> None:
    server.cli("apps:create", "cfg-app", "--no-remote")
    for args, message in ((["NOEQUALS"], "is not KEY=VALUE"), (["1X=y"], "is not a valid config var name"),
                          (["A-B=c"], "is not a valid config var name")):
        proc = server.cli("config:set", *args, "-a", "cfg-app", check=False)
        assert proc.returncode == 1 and message in proc.stderr
    assert server.api("GET", "/apps/cfg-app/config-vars").json() == {}
    assert len(server.api("GET", "/apps/cfg-app/releases").json()) == 1


def test_wrong_or_missing_token_is_401_on_api_and_git(server: HoistServer, workdir: Path) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic Og=="}):
        r = httpx.get(f"{server.url}/apps", headers=headers, timeout=10)
        assert r.status_code == 401 and r.json()["id"] == "unauthorized"
    r = httpx.get(f"{server.url}/cfg-app.git/info/refs?service=git-receive-pack", timeout=10)
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    # A wrong token is refused in git's own protocol, so git prints the reason instead of prompting.
    r = httpx.get(f"{server.url}/cfg-app.git/info/refs?service=git-receive-pack", auth=("x", "wrong"), timeout=10)
    assert b"ERR Invalid credentials provided" in r.content and b"refs/" not in r.content
    repo = make_repo(workdir / "unauth", example_files("hello"), server.env())
    bad_url = f"http://user:wrong-token@localhost:{server.port}/cfg-app.git"
    proc = server.git(repo, "push", bad_url, "HEAD:main", check=False)
    assert proc.returncode != 0 and "remote error: Invalid credentials provided" in proc.stderr


def test_destroy_takes_the_app_as_an_argument_and_removes_its_git_remotes(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "doomed", {"a.txt": "a\n"}, server.env())
    server.cli("apps:create", "doomed-app", cwd=repo)
    server.git(repo, "remote", "add", "other", "http://example.com/doomed-app.git")  # same name, not hoist
    out = server.cli("apps:destroy", "doomed-app", "--confirm", "doomed-app", cwd=repo).stdout
    # apps:create added `heroku` beside `hoist` (as the heroku CLI adds it); both go with the app.
    assert out == "Destroying doomed-app... done\nGit remote heroku removed\nGit remote hoist removed\n"
    assert server.git(repo, "remote").stdout.split() == ["other"]
    assert server.api("GET", "/apps/doomed-app").status_code == 404


def test_a_remote_named_heroku_still_names_the_app(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "renamed", {"a.txt": "a\n"}, server.env())
    server.cli("apps:create", "renamed-app", "--no-remote")
    server.cli("git:remote", "-a", "renamed-app", "-r", "heroku", cwd=repo)
    assert "=== renamed-app" in server.cli("apps:info", cwd=repo).stdout
    server.cli("apps:create", "renamed-two", "--no-remote")
    server.cli("git:remote", "-a", "renamed-two", "-r", "staging", cwd=repo)
    two = server.cli("apps:info", cwd=repo, check=False)
    assert two.returncode == 1 and "heroku: renamed-app, staging: renamed-two" in two.stderr and "-a APP" in two.stderr


def test_push_to_an_app_that_does_not_exist(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "noapp", example_files("hello"), server.env())
    proc = server.git(repo, "push", f"{server.url}/no-such-app.git", "HEAD:main", check=False)
    assert proc.returncode != 0
    assert "not found" in proc.stderr.lower() or "404" in proc.stderr


def test_push_problems_each_say_what_to_do(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "probs", example_files("hello"), server.env())
    server.cli("apps:create", "probs", cwd=repo)
    # A missing Procfile, or one without `web`, is deployed as on Heroku (tests/e2e/test_old_apps.py).
    cases = [
        ({"Procfile": "web: gunicorn app:app\n", ".python-version": "3.8\n"}, "end-of-life"),
        ({".python-version": "3.99\n"}, "3.99"),
        ({".python-version": "3.12\n", "requirements.txt": "flask\ngunicorn\npsycopg2==2.7.3.2\n"},
         "Failed to build `psycopg2==2.7.3.2` (requirements.txt line 3); the last lines of its build output:"),
    ]
    for files, expected in cases:
        commit_files(repo, files, server.env(), f"case {expected}")
        proc = server.push(repo, check=False)
        assert proc.returncode != 0, proc.stderr
        assert expected in proc.stderr
        assert "remote:  !" in proc.stderr
    assert server.api("GET", "/apps/probs/releases").json()[-1]["version"] == 1
    other = server.git(repo, "push", "hoist", "HEAD:feature", check=False)
    assert other.returncode != 0 and "hoist deploys only main or master" in other.stderr
    assert "git push hoist feature:main" in other.stderr


def test_unknown_api_paths_and_bad_range_headers(server: HoistServer) -> None:
    r = server.api("GET", "/no-such-thing")
    assert r.status_code == 404 and r.json()["id"] == "not_found"
    r = server.api("GET", "/apps", headers={"Range": "bogus"})
    assert r.status_code == 400 and "Range" in r.json()["message"]
    r = server.api("GET", "/apps", headers={"Range": "name ..; max=1"})
    assert r.status_code == 206 and r.headers["Next-Range"].startswith("name ]")
    assert len(r.json()) == 1
    rest = server.api("GET", "/apps", headers={"Range": r.headers["Next-Range"]})
    assert rest.status_code in (200, 206) and rest.json()[0]["name"] > r.json()[0]["name"]


def test_cli_without_server_or_token_says_what_to_do(server: HoistServer) -> None:
    env = server.env()
    env.update({"HOIST_API_URL": "http://127.0.0.1:9", "HOIST_API_KEY": "x"})
    proc = subprocess.run([sys.executable, "-m", "hoist", "apps"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Is `hoist server` running?" in proc.stderr
