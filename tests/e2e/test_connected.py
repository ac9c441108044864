"""Deploys from a connected repository, with real parts: a bare repository served by `git daemon` on
127.0.0.1, webhook deliveries in GitHub's exact payload format signed with the app's secret (and GitLab's
token), the poll fallback, a repository that goes away and comes back, a private repository behind a token,
and a connection that waits for CI."""
from __future__ import annotations

import json
import re
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from tests.e2e.gitserve import GitDaemon, PrivateGitHttp, encode, github_headers, github_push
from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo


@pytest.fixture(scope="module")
def daemon(workdir: Path) -> Iterator[GitDaemon]:
    root = workdir / "served"
    root.mkdir()
    d = GitDaemon(root)
    d.start()
    yield d
    d.stop()


def served_repo(server: HoistServer, workdir: Path, daemon: GitDaemon, name: str,
                files: dict[str, str]) -> Path:
    """A working repository whose `origin` is a bare repository the daemon serves as NAME.git."""
    bare = daemon.root / f"{name}.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = make_repo(workdir / name, files, server.env())
    server.git(work, "remote", "add", "origin", str(bare))
    server.git(work, "push", "-q", "origin", "main")
    return work


def head(server: HoistServer, repo: Path) -> str:
    return server.git(repo, "rev-parse", "HEAD").stdout.strip()


def connection(server: HoistServer, app: str) -> dict[str, Any]:
    return server.api("GET", f"/apps/{app}/repo-connection").json()


def wait(predicate: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def deployed(server: HoistServer, app: str) -> list[tuple[str, str]]:
    return [(d["commit"], d["status"]) for d in connection(server, app)["deploys"]]


def hello(version: str) -> dict[str, str]:
    files = example_files("hello")
    files["app.py"] = files["app.py"].replace("from hoist", f"from {version}")
    return files


def deliver(server: HoistServer, app: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.url}/webhooks/repo/{app}", content=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def hooked(server: HoistServer, workdir: Path, daemon: GitDaemon) -> dict[str, Any]:
    """App `hooked`, connected to a served repository (long poll interval: deploys here come from webhooks)."""
    work = served_repo(server, workdir, daemon, "notes", hello("v1"))
    server.cli("apps:create", "hooked", cwd=workdir)
    out = server.cli("apps:connect", daemon.url("notes.git"), "--branch", "main", "--poll", "3600",
                     "-a", "hooked").stdout
    secret = re.search(r"Webhook secret: ([0-9a-f]+)", out)
    assert secret and f"{server.url}/webhooks/repo/hooked" in out
    return {"work": work, "secret": secret.group(1), "first": head(server, work)}


def test_connect_deploys_the_head_and_shows_the_secret_once(server: HoistServer, hooked: dict[str, Any]) -> None:
    server.wait_for("hooked", "Hello from v1", timeout=180)
    wait(lambda: deployed(server, "hooked") == [(hooked["first"], "succeeded")], "the first deploy recorded")
    shown = connection(server, "hooked")
    assert "webhook_secret" not in shown and hooked["secret"] not in json.dumps(shown)
    assert shown["last_deployed_commit"] == hooked["first"] and shown["last_error"] is None
    info = server.cli("apps:connection", "-a", "hooked").stdout
    assert "Deployed:" in info and hooked["first"] in info
    mirror = server.home / "apps" / "hooked" / "connected.git"  # the app's source: hoist's alone
    assert (mirror / "HEAD").exists() and stat.S_IMODE(mirror.stat().st_mode) == 0o700


def test_the_dashboard_shows_the_connected_repository(server: HoistServer, hooked: dict[str, Any]) -> None:
    """Issue 15: the connected repository in the dashboard's Activity tab, its secrets not shown."""
    from tests.e2e.browser import launch, login
    wait(lambda: connection(server, "hooked")["last_deployed_commit"] == hooked["first"], "deployed")
    for browser in launch():
        page = login(browser, server)
        page.goto(f"{server.url}/dashboard/apps/hooked/activity")
        text = page.locator("#repo").inner_text()
        assert "notes.git" in text and "main" in text and hooked["first"][:8] in text, text
        assert hooked["secret"] not in page.content()
        page.context.close()


def test_a_bad_or_missing_signature_gets_401_and_deploys_nothing(server: HoistServer, hooked: dict[str, Any]) -> None:
    work = hooked["work"]
    commit_files(work, hello("v2"), server.env(), "v2")
    server.git(work, "push", "-q", "origin", "main")
    body = encode(github_push(work, "main", hooked["first"], head(server, work)))
    wrong = deliver(server, "hooked", body, github_headers(body, "not-the-secret"))
    assert wrong.status_code == 401 and "does not match" in wrong.json()["message"]
    unsigned = {k: v for k, v in github_headers(body, hooked["secret"]).items() if not k.startswith("X-Hub")}
    assert deliver(server, "hooked", body, unsigned).status_code == 401
    tampered = body.replace(b'"forced": false', b'"forced": true')
    assert deliver(server, "hooked", tampered, github_headers(body, hooked["secret"])).status_code == 401
    time.sleep(3)
    assert deployed(server, "hooked") == [(hooked["first"], "succeeded")]
    assert "Hello from v1" in server.app_get("hooked").text


def test_a_signed_push_deploys_once_and_replays_deploy_nothing(server: HoistServer, hooked: dict[str, Any]) -> None:
    work = hooked["work"]
    second = head(server, work)
    body = encode(github_push(work, "main", hooked["first"], second))
    headers = github_headers(body, hooked["secret"])
    ping = encode({"zen": "Keep it logically awesome.", "hook_id": 292430182})
    assert "pong" in deliver(server, "hooked", ping, github_headers(ping, hooked["secret"], "ping")).json()["message"]
    got = deliver(server, "hooked", body, headers)
    assert got.status_code == 202 and got.json()["commit"] == second
    server.wait_for("hooked", "Hello from v2", timeout=180)
    wait(lambda: deployed(server, "hooked")[-1] == (second, "succeeded"), "the second deploy recorded")

    replay = deliver(server, "hooked", body, headers)  # the same delivery id
    assert replay.status_code == 200 and "received before" in replay.json()["message"]
    again = deliver(server, "hooked", body, github_headers(body, hooked["secret"]))  # a new id, the same commit
    assert again.status_code == 200 and "deployed before" in again.json()["message"]
    time.sleep(2)
    assert [c for c, _ in deployed(server, "hooked")] == [hooked["first"], second]
    assert len(server.api("GET", "/apps/hooked/builds").json()) == 2
    hooked["second"] = second


def test_a_push_to_another_branch_is_ignored(server: HoistServer, hooked: dict[str, Any]) -> None:
    work = hooked["work"]
    body = encode(github_push(work, "feature", hooked["second"], hooked["second"]))
    got = deliver(server, "hooked", body, github_headers(body, hooked["secret"]))
    assert got.status_code == 200
    assert got.json()["message"] == "Ignored: this push is to branch 'feature'; hooked deploys 'main'. Nothing deployed."


def test_a_force_push_that_rewrites_history_deploys_the_new_head(server: HoistServer, hooked: dict[str, Any]) -> None:
    work = hooked["work"]
    server.git(work, "reset", "-q", "--hard", hooked["first"])
    commit_files(work, hello("v3"), server.env(), "v3 rewrites v2 away")
    server.git(work, "push", "-q", "--force", "origin", "main")
    rewritten = head(server, work)
    body = encode(github_push(work, "main", hooked["second"], rewritten, forced=True))
    assert deliver(server, "hooked", body, github_headers(body, hooked["secret"])).status_code == 202
    server.wait_for("hooked", "Hello from v3", timeout=180)
    wait(lambda: deployed(server, "hooked")[-1] == (rewritten, "succeeded"), "the rewritten head deployed")
    hooked["third"] = rewritten


def test_gitlab_token(server: HoistServer, hooked: dict[str, Any]) -> None:
    body = encode({"object_kind": "push", "event_name": "push", "before": hooked["second"],
                   "after": hooked["third"], "ref": "refs/heads/main", "checkout_sha": hooked["third"],
                   "user_username": "octocat", "project": {"name": "notes"}, "commits": [], "total_commits_count": 0})
    base = {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "User-Agent": "GitLab/17.5.0"}
    bad = deliver(server, "hooked", body, {**base, "X-Gitlab-Token": "wrong", "X-Gitlab-Event-UUID": "u-1"})
    assert bad.status_code == 401
    good = deliver(server, "hooked", body, {**base, "X-Gitlab-Token": hooked["secret"], "X-Gitlab-Event-UUID": "u-2"})
    assert good.status_code == 200 and "deployed before" in good.json()["message"]


def test_a_50_mb_payload_is_refused_with_413_before_it_is_read(server: HoistServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"POST /webhooks/repo/hooked HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  b"X-GitHub-Event: push\r\nContent-Length: %d\r\n\r\n" % (50 * 1024 * 1024))
        s.sendall(b"{" + b" " * 65536)  # a little of it; the answer comes without the rest
        answer = s.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]  # after 64 KiB of the 50 MiB
    # Chunked, with no length declared: counted as it arrives, refused once over the limit.
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"POST /webhooks/repo/hooked HTTP/1.1\r\nHost: localhost\r\nX-GitHub-Event: push\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (1024 * 1024, b"x" * 1024 * 1024)
        try:
            for _ in range(50):
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while sending: the rest was never read
        answer = s.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert len(deployed(server, "hooked")) == 3


@pytest.fixture(scope="module")
def gated(server: HoistServer, workdir: Path, daemon: GitDaemon) -> dict[str, Any]:
    """App `gated`: polled every 5 s, no webhook, and it waits for CI."""
    files = hello("g1")
    files["app.json"] = json.dumps({"environments": {"test": {"scripts": {
        "test": "python -c \"import sys; sys.exit(0 if open('verdict.txt').read().strip() == 'pass' else 4)\""}}}})
    files["verdict.txt"] = "pass\n"
    work = served_repo(server, workdir, daemon, "gated", files)
    server.cli("apps:create", "gated", cwd=workdir)
    server.cli("apps:connect", daemon.url("gated.git"), "--branch", "main", "--wait-for-ci", "--poll", "5",
               "-a", "gated")
    return {"work": work}


def test_poll_deploys_without_a_webhook_and_waits_for_ci(server: HoistServer, gated: dict[str, Any]) -> None:
    work = gated["work"]
    server.wait_for("gated", "Hello from g1", timeout=180)
    commit_files(work, {**hello("g2"), "verdict.txt": "fail\n"}, server.env(), "g2 fails its tests")
    server.git(work, "push", "-q", "origin", "main")
    failing = head(server, work)
    wait(lambda: (failing, "failed") in deployed(server, "gated"), "the polled commit's failed test run")
    shown = connection(server, "gated")
    assert re.fullmatch(r"failed: Test run #2 failed after \d+\.\ds: test exited with status 4", shown["last_status"])
    assert "Hello from g1" in server.app_get("gated").text  # red: not deployed
    commit_files(work, {"verdict.txt": "pass\n"}, server.env(), "g2 fixed")
    server.git(work, "push", "-q", "origin", "main")
    server.wait_for("gated", "Hello from g2", timeout=180)
    runs = server.api("GET", "/apps/gated/test-runs").json()
    assert [(r["status"], r["source"]) for r in runs] == [("succeeded", "connected"), ("failed", "connected"),
                                                          ("succeeded", "connected")]


def test_an_unreachable_repository_keeps_the_release_and_says_why(server: HoistServer, gated: dict[str, Any],
                                                                   daemon: GitDaemon) -> None:
    work = gated["work"]
    daemon.stop()
    try:
        commit_files(work, hello("g3"), server.env(), "g3 while the repository is away")
        server.git(work, "push", "-q", "origin", "main")
        wait(lambda: connection(server, "gated")["last_error"] is not None, "the fetch error recorded", 30)
        error = connection(server, "gated")["last_error"]
        assert error.startswith(f"could not fetch branch 'main' of {daemon.url('gated.git')}: ")
        assert "The running release is unchanged; hoist tries again every 5 s." in error
        assert "Error:" in server.cli("apps:connection", "-a", "gated").stdout
        assert "Hello from g2" in server.app_get("gated").text
        logs = server.cli("logs", "-n", "200", "-a", "gated").stdout
        assert "Connected repository: could not fetch" in logs
    finally:
        daemon.start()
    server.wait_for("gated", "Hello from g3", timeout=180)
    wait(lambda: connection(server, "gated")["last_error"] is None, "the error cleared")


def test_a_private_repository_through_a_token_that_is_never_shown(server: HoistServer, workdir: Path) -> None:
    token = "ghp_" + "s3cr3tT0k3n" * 3
    root = workdir / "private"
    root.mkdir()
    bare = root / "secret.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = make_repo(workdir / "secret-work", hello("private"), server.env())
    server.git(work, "push", "-q", str(bare), "main")
    http = PrivateGitHttp(root, token)
    try:
        server.cli("apps:create", "privy", cwd=workdir)
        (workdir / "wrong-token").write_text("ghp_wrongwrongwrong\n")
        server.cli("apps:connect", http.url("secret.git"), "--token-file", str(workdir / "wrong-token"),
                   "--poll", "3600", "-a", "privy")
        wait(lambda: connection(server, "privy")["last_error"] is not None, "the refused fetch recorded", 30)
        assert "ghp_wrong" not in connection(server, "privy")["last_error"]

        (workdir / "token").write_text(token + "\n")
        server.cli("apps:connect", http.url("secret.git"), "--token-file", str(workdir / "token"),
                   "--poll", "3600", "-a", "privy")
        server.wait_for("privy", "Hello from private", timeout=180)
        shown = connection(server, "privy")
        assert shown["credential"] == {"kind": "token", "value": "****" + token[-4:]}
        info = server.cli("apps:connection", "-a", "privy").stdout
        logs = server.cli("logs", "-n", "500", "-a", "privy").stdout
        for text in (json.dumps(shown), info, logs, "\n".join(server.output)):
            assert token not in text
        assert any(a.startswith("Basic ") for a in http.seen_auth)
    finally:
        http.stop()


def test_only_the_admin_connects_a_repository_on_a_private_network(server: HoistServer, daemon: GitDaemon) -> None:
    """A user's connected repository must not make hoist's fetch a way to reach hosts inside (loopback here)."""
    out = server.cli("users:add", "carol@example.com").stdout
    password = re.search(r"Password \(shown once.*\): (\S+)", out).group(1)  # type: ignore[union-attr]
    r = httpx.post(server.url + "/oauth/authorizations", auth=("carol@example.com", password), json={"description": "t"})
    carol = r.json()["access_token"]["token"]
    assert server.api("POST", "/apps", token=carol, json={"name": "carols"}).status_code == 201
    r = server.api("PUT", "/apps/carols/repo-connection", token=carol,
                   json={"repo_url": daemon.url("notes.git"), "branch": "main"})
    assert r.status_code == 422 and "only the admin may connect a repository on a private network" in r.text, r.text
    assert "127.0.0.1" in r.json()["message"]
    assert server.api("GET", "/apps/carols/repo-connection", token=carol).status_code == 404  # nothing stored
