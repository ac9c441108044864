"""The main path: create an app, git push it, see it served, change config, read logs."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.harness import HoistServer, Load, commit_files, example_files, make_repo


def test_push_serves_the_app_and_config_makes_a_release(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "hello", example_files("hello"), server.env())
    out = server.cli("apps:create", "hello", cwd=repo).stdout
    assert "http://hello.localhost:" in out and "/hello.git" in out
    push = server.push(repo)
    assert "remote: -----> Python app detected" in push.stderr
    assert "Released v2" in push.stderr
    assert server.app_get("hello").text.startswith("Hello from hoist (web.1)")
    logs = server.cli("logs", "-n", "200", "-a", "hello").stdout
    assert "app[api]: Build started by user admin@hoist.local" in logs
    assert "app[api]: Release v2 created by user admin@hoist.local" in logs

    out = server.cli("config:set", "GREETING=hi", cwd=repo).stdout
    assert "v3" in out
    assert server.app_get("hello").text.startswith("hi from hoist")
    rels = server.api("GET", "/apps/hello/releases").json()
    assert [r["version"] for r in rels] == [1, 2, 3]
    assert rels[-1]["description"] == "Set GREETING config vars" and rels[-1]["current"]
    assert server.cli("config:get", "GREETING", cwd=repo).stdout.strip() == "hi"
    assert "web.1: up" in server.cli("ps", cwd=repo).stdout


def test_code_only_redeploy_is_fast_and_reuses_the_env(server: HoistServer, workdir: Path) -> None:
    repo = workdir / "hello"
    commit_files(repo, {"app.py": (repo / "app.py").read_text().replace("from hoist", "from hoist v2")},
                 server.env(), "v2")
    started = time.monotonic()
    push = server.push(repo)
    elapsed = time.monotonic() - started
    assert "Reusing" in push.stderr or "reus" in push.stderr.lower()
    assert "from hoist v2" in server.app_get("hello").text
    assert elapsed < 10, f"code-only redeploy took {elapsed:.1f}s"


def test_failed_build_and_boot_crash_keep_the_old_release_serving(server: HoistServer, workdir: Path) -> None:
    repo = workdir / "hello"
    before = server.api("GET", "/apps/hello/releases").json()[-1]["version"]
    with Load(server, "hello") as load:
        commit_files(repo, {"requirements.txt": "flask\ngunicorn\nno-such-package-hoist-test==1.0\n"},
                     server.env(), "bad deps")
        push = server.push(repo, check=False)
        assert push.returncode != 0
        assert "no-such-package-hoist-test" in push.stderr
        assert "pre-receive hook declined" in push.stderr

        commit_files(repo, {"requirements.txt": "flask\ngunicorn\n",
                            "app.py": "raise SystemExit('boom at boot')\n"}, server.env(), "crash at boot")
        push = server.push(repo, check=False)
        assert push.returncode != 0
        assert "failed" in push.stderr and "previous release keeps serving" in push.stderr
        time.sleep(0.5)
    assert load.ok > 10
    assert load.failures == []
    rels = server.api("GET", "/apps/hello/releases").json()
    # Not "failed" (the heroku CLI shows that as "release command failed"): it did not boot, so it expired.
    assert rels[-1]["status"] == "expired" and not rels[-1]["current"]
    assert re.search(r" \(not deployed: (web\.1 exited with status \d+ while booting|web did not bind \$PORT within 60 s \(R10\))\)$", rels[-1]["description"])
    current = [r for r in rels if r["current"]]
    assert current[0]["version"] == before
    assert "from hoist v2" in server.app_get("hello").text
    builds = server.api("GET", "/apps/hello/builds").json()
    assert builds[-2]["status"] == "failed"
    output = server.cli("builds:output", builds[-2]["id"], "-a", "hello").stdout
    assert "no-such-package-hoist-test" in output
    # The app keeps being the good commit: put it back for the next tests.
    subprocess.run(["git", "reset", "-q", "--hard", "HEAD~2"], cwd=repo, check=True)


def test_logs_show_build_release_app_and_router_lines(server: HoistServer, workdir: Path) -> None:
    server.app_get("hello", "/?from=logs-test")
    out = server.cli("logs", "-n", "1500", "-a", "hello").stdout
    assert "app[api]: Release v" in out
    assert "app[web.1]:" in out
    assert 'heroku[router]: at=info method=GET path="/?from=logs-test" host=hello.localhost' in out
    assert "dyno=web.1" in out and "status=200" in out
    router_only = server.cli("logs", "-s", "router", "-a", "hello").stdout.strip().splitlines()
    assert router_only and all("heroku[router]:" in line for line in router_only)


def test_logs_tail_shows_a_request_made_after_it_started(server: HoistServer, workdir: Path) -> None:
    env = server.env()
    env.update({"HOIST_API_URL": server.url, "HOIST_API_KEY": server.token})
    tail = subprocess.Popen([sys.executable, "-m", "hoist", "logs", "--tail", "-n", "0", "-a", "hello"],
                            env=env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        server.app_get("hello", "/?tail-marker=1")
        deadline = time.monotonic() + 20
        assert tail.stdout is not None
        seen = []
        while time.monotonic() < deadline:
            line = tail.stdout.readline()
            seen.append(line)
            if "tail-marker=1" in line:
                break
        assert any("tail-marker=1" in line for line in seen), seen
    finally:
        tail.terminate()
        tail.wait(10)


def test_log_session_streams_sse_and_plain(server: HoistServer) -> None:
    session = server.api("POST", "/apps/hello/log-sessions", json={"lines": 5}).json()
    plain = httpx.get(session["logplex_url"], timeout=10)
    assert plain.status_code == 200 and len(plain.text.strip().splitlines()) == 5
    sse = httpx.get(session["logplex_url"], headers={"Accept": "text/event-stream"}, timeout=10)
    assert sse.headers["content-type"].startswith("text/event-stream")
    assert sse.text.startswith("data: ")
    assert httpx.get(session["logplex_url"] + "x", timeout=10).status_code == 401


def test_restarting_hoist_brings_the_app_back(server: HoistServer, workdir: Path) -> None:
    before = server.app_get("hello").text
    rels_before = server.api("GET", "/apps/hello/releases").json()
    assert server.stop() == 0
    server.start()
    assert server.wait_for("hello", before.strip()).status_code == 200
    assert server.api("GET", "/apps/hello/releases").json() == rels_before
    assert server.api("GET", "/apps/hello/config-vars").json()["GREETING"] == "hi"


def test_a_second_server_on_the_same_home_refuses(server: HoistServer) -> None:
    proc = subprocess.run([sys.executable, "-m", "hoist", "server", "--home", str(server.home), "--port", "1"],
                          env=server.env(), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "another hoist server" in proc.stderr and "already running" in proc.stderr


def test_admin_token_file_is_private(server: HoistServer) -> None:
    assert (server.home / "admin-token").stat().st_mode & 0o777 == 0o600
    assert server.token not in "\n".join(server.output)
    assert server.token not in (server.home / "hoist.db").read_bytes().decode("latin-1")


def test_app_json_like_bodies_on_the_api_are_validated(server: HoistServer) -> None:
    r = server.api("PATCH", "/apps/hello/config-vars", content=b"not json",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["id"] == "bad_request"
    r = server.api("PATCH", "/apps/hello/config-vars", json={"1BAD": "x"})
    assert r.status_code == 422 and "not a valid config var name" in r.json()["message"]
    assert json.loads(r.text)["id"] == "invalid_params"
