"""Attacks on a real hoist server run as root (per-app users exercised for real): other users'
tokens, revoked and expired tokens, removed collaborators, hostile names, huge bodies, password
guessing, one app's dyno reading or signalling another's, and secrets leaking into listings or logs."""
from __future__ import annotations

import base64
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.harness import HoistServer, example_files, make_repo

SECRET = "s3cr3t-value-9f8e7d6c5b4a"


def add_user(server: HoistServer, email: str) -> tuple[str, str]:
    """A new user via the CLI; return (password, token) after a password login."""
    out = server.cli("users:add", email).stdout
    password = re.search(r"Password \(shown once.*\): (\S+)", out).group(1)  # type: ignore[union-attr]
    r = httpx.post(server.url + "/oauth/authorizations", auth=(email, password), json={"description": "t"})
    assert r.status_code == 201, r.text
    return password, r.json()["access_token"]["token"]


def test_users_login_and_other_users_apps_look_unknown(server: HoistServer) -> None:
    _, ada = add_user(server, "ada@example.com")
    _, bob = add_user(server, "bob@example.com")
    assert "ada@example.com" in server.cli("users").stdout
    assert server.api("GET", "/users", token=ada).status_code == 403  # admin only
    assert server.api("POST", "/apps", token=ada, json={"name": "ada-app"}).status_code == 201
    assert [a["name"] for a in server.api("GET", "/apps", token=bob).json()] == []
    assert "ada-app" in [a["name"] for a in server.api("GET", "/apps").json()]  # the admin sees all
    forbidden = server.api("GET", "/apps/ada-app/config-vars", token=bob)
    unknown = server.api("GET", "/apps/no-such-app/config-vars", token=bob)
    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.json()["message"].replace("ada-app", "X") == unknown.json()["message"].replace("no-such-app", "X")
    assert server.api("DELETE", "/apps/ada-app", token=bob).status_code == 404
    # git too: another user's token cannot even list refs
    r = httpx.get(server.url + "/ada-app.git/info/refs?service=git-upload-pack",
                  headers={"Authorization": "Basic " + base64.b64encode(f"x:{bob}".encode()).decode()})
    assert r.status_code == 404


def test_revoked_and_expired_tokens_are_refused(server: HoistServer) -> None:
    _, tok = add_user(server, "eve@example.com")
    created = server.api("POST", "/oauth/authorizations", token=tok, json={"description": "ci", "expires_in": 3})
    assert created.status_code == 201
    short = created.json()["access_token"]["token"]
    assert server.api("GET", "/account", token=short).status_code == 200
    listed = server.cli("authorizations", token=tok).stdout
    assert "ci" in listed and short not in listed
    time.sleep(3.2)
    assert server.api("GET", "/account", token=short).status_code == 401
    tid = server.api("POST", "/oauth/authorizations", token=tok, json={"description": "x"}).json()
    server.cli("authorizations:revoke", tid["id"], token=tok)
    assert server.api("GET", "/account", token=tid["access_token"]["token"]).status_code == 401
    assert server.api("GET", "/account", token=tok).status_code == 200


def test_git_with_a_revoked_token_says_to_log_in_instead_of_prompting(server: HoistServer) -> None:
    server.cli("apps:create", "stale-login")
    tid = server.api("POST", "/oauth/authorizations", json={"description": "old laptop"}).json()
    server.cli("authorizations:revoke", tid["id"])
    stale = f"http://x:{tid['access_token']['token']}@localhost:{server.port}/stale-login.git"
    repo = make_repo(Path(tempfile.mkdtemp()) / "stale", {"a.txt": "a\n"}, server.env())
    for args in (["ls-remote", stale], ["push", stale, "HEAD:main"]):
        r = server.git(repo, *args, check=False)
        assert r.returncode != 0
        assert "fatal: remote error: Invalid credentials provided" in r.stderr and "hoist login" in r.stderr, r.stderr
        assert "Username" not in r.stderr
    # no credentials at all is still a 401, so git sends the ones from ~/.netrc
    assert httpx.get(server.url + "/stale-login.git/info/refs?service=git-upload-pack").status_code == 401


def test_collaborator_removed_mid_session_stops_receiving(server: HoistServer) -> None:
    _, carol = add_user(server, "carol@example.com")
    server.cli("apps:create", "shared-app")
    server.cli("access:add", "carol@example.com", "-a", "shared-app")
    assert "carol@example.com  collaborator" in server.cli("access", "-a", "shared-app").stdout
    assert server.api("GET", "/apps/shared-app", token=carol).status_code == 200
    # a collaborator cannot change who has access
    assert server.api("POST", "/apps/shared-app/collaborators", token=carol,
                      json={"user": "ada@example.com"}).status_code == 403
    url = server.api("POST", "/apps/shared-app/log-sessions", token=carol,
                     json={"tail": True, "lines": 1}).json()["logplex_url"]
    with httpx.stream("GET", url, timeout=30) as stream:
        lines = stream.iter_lines()
        server.cli("config:set", "A=1", "-a", "shared-app")
        seen = next(lines)
        server.cli("access:remove", "carol@example.com", "-a", "shared-app")
        started = time.monotonic()
        rest = list(lines)  # the stream ends once access is gone
        assert time.monotonic() - started < 10
    assert seen and all("A=" not in line or "Set A" in line for line in rest)
    assert server.api("GET", "/apps/shared-app", token=carol).status_code == 404
    activity = server.cli("activity", "-a", "shared-app").stdout
    assert "access:add  carol@example.com" in activity and "access:remove  carol@example.com" in activity
    assert "release  v2 succeeded: Set A config vars" in activity


BAD_NAMES = ["../etc", "..%2f..%2fetc", "a;rm -rf /", "$(id)", "`id`", "a b", "a|b", "%00", "..", "x" * 300,
             "web.1;id", "A&B", "../../hoist.db", "a\nb", "good-name\n", "WEB\n"]


def test_hostile_names_never_reach_the_filesystem_or_a_shell(server: HoistServer) -> None:
    server.cli("apps:create", "names-app")
    for bad in BAD_NAMES:
        q = quote(bad, safe="").replace(".", "%2E")  # else the client resolves dot segments itself
        for method, path, body in [
            ("GET", f"/apps/{q}", None), ("POST", "/apps", {"name": bad}),
            ("PATCH", "/apps/names-app/config-vars", {bad: "v"}),
            ("PATCH", f"/apps/names-app/formation/{q}", {"quantity": 1}),
            ("PATCH", "/apps/names-app/formation", {"updates": [{"type": bad, "quantity": 1}]}),
            ("GET", f"/apps/names-app/dynos/{q}", None), ("GET", f"/apps/names-app/releases/{q}", None),
            ("GET", f"/apps/names-app/builds/{q}", None), ("GET", f"/apps/names-app/builds/{q}/output", None),
            ("DELETE", f"/apps/names-app/collaborators/{q}", None), ("DELETE", f"/oauth/authorizations/{q}", None),
            ("POST", "/apps/names-app/log-sessions", {"dyno": bad}),
            ("GET", f"/{q}.git/info/refs?service=git-upload-pack", None),
        ]:
            r = server.api(method, path, json=body)
            # 307: Starlette's trailing-slash redirect for names ending in "/" (it reaches nothing)
            assert r.status_code in (307, 400, 404, 405, 422), (method, path, r.status_code, r.text)
    assert not any(Path("/etc").glob("*;*")) and (server.home / "hoist.db").exists()


def test_a_100_mb_api_body_is_refused_quickly(server: HoistServer) -> None:
    started = time.monotonic()
    try:
        r = server.api("PATCH", "/apps/names-app/config-vars", content=b"{" + b" " * (100 * 1024 * 1024))
        assert r.status_code == 413
    except httpx.HTTPError:
        pass  # the server may close the connection before reading the rest: also a refusal
    assert time.monotonic() - started < 10
    assert server.api("GET", "/account").status_code == 200


def test_a_thousand_wrong_passwords_are_slowed_down_and_logged(server: HoistServer) -> None:
    password, _ = add_user(server, "dan@example.com")
    statuses: dict[int, int] = {}
    with httpx.Client(timeout=30) as client:
        for _ in range(1000):
            r = client.post(server.url + "/oauth/authorizations", auth=("dan@example.com", "wrong-password"))
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    # only a few guesses were even checked: the rest were told to wait (429 + Retry-After)
    assert set(statuses) == {401, 429} and statuses[401] < 40, statuses
    assert any("failed login for 'dan@example.com'" in line for line in server.output)
    for _ in range(3):  # not locked out forever: after the wait, the right password works
        r = httpx.post(server.url + "/oauth/authorizations", auth=("dan@example.com", password))
        if r.status_code != 429:
            break
        assert int(r.headers["Retry-After"]) <= 31
        time.sleep(int(r.headers["Retry-After"]))
    assert r.status_code == 201, r.text


def test_rate_limit_remaining_counts_down(server: HoistServer) -> None:
    # The bucket refills at 4500/h (1.25/s), so on a slow machine two calls can show the same count:
    # spend 20 and allow for what refilled meanwhile.
    t0 = time.monotonic()
    a = int(server.api("GET", "/account").headers["RateLimit-Remaining"])
    for _ in range(19):
        server.api("GET", "/account")
    b = int(server.api("GET", "/account").headers["RateLimit-Remaining"])
    refilled = (time.monotonic() - t0) * 4500 / 3600
    assert a <= 4500 and b <= a - 20 + refilled + 1 and b < a, (a, b, refilled)


TINY = {"requirements.txt": "", ".python-version": "3.12\n"}


@pytest.mark.skipif(os.geteuid() != 0, reason="per-app users need root")
def test_apps_cannot_read_or_signal_each_other_and_secrets_stay_out_of_listings(
        server: HoistServer, workdir: Path) -> None:
    b = make_repo(workdir / "app-b", {**TINY, "secret.txt": "B-PRIVATE\n",
                                      "Procfile": "web: python -m http.server $PORT\n"}, server.env())
    server.cli("apps:create", "app-b", cwd=b)
    server.cli("config:set", f"API_SECRET={SECRET}", "-a", "app-b")
    push_b = server.push(b)
    assert "Released" in push_b.stderr
    b_user = pwd.getpwnam("hoist-app-b")
    b_pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and p.stat().st_uid == b_user.pw_uid]
    assert b_pids, "app-b's dyno should run as hoist-app-b"
    slug = next((server.home / "apps" / "app-b" / "slugs").iterdir())
    release = (f"release: cat {slug}/secret.txt; echo read=$?; kill -0 {b_pids[0]} 2>&1; echo kill=$?; "
               f"ls {server.home} >/dev/null 2>&1; echo list=$?; cat {server.home}/hoist.db >/dev/null 2>&1; "
               f"echo db=$?; id -un\n")
    a = make_repo(workdir / "app-a", {**TINY, "Procfile": release + "web: python -m http.server $PORT\n"},
                  server.env())
    server.cli("apps:create", "app-a", cwd=a)
    out = server.push(a).stderr
    assert "B-PRIVATE" not in out and "read=1" in out
    assert "Operation not permitted" in out and "kill=1" in out
    assert "list=2" in out and "db=1" in out and "hoist-app-a" in out
    # secrets: not in any process's argv, not in hoist's output, not in build logs
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert SECRET.encode() not in cmdline.read_bytes()
        except OSError:
            pass
    assert not any(SECRET in line for line in server.output)
    assert SECRET not in push_b.stderr + push_b.stdout
    for log in (server.home / "apps" / "app-b" / "builds").glob("*.log"):
        assert SECRET not in log.read_text()
    assert SECRET not in server.cli("activity", "-a", "app-b").stdout
    mode = (server.home / "apps" / "app-b").stat()
    assert mode.st_mode & 0o777 == 0o750 and mode.st_gid == b_user.pw_gid
    assert (server.home / "hoist.db").stat().st_mode & 0o777 == 0o600


SPY = """import os, sys, time
out = sys.argv[1]
with open(out + "/spy.pid", "w") as f:
    f.write(f"{os.getpid()} {os.getsid(0)}")
while True:
    for pid in os.listdir("/proc"):
        try:
            env = open(f"/proc/{pid}/environ", "rb").read()
        except OSError:
            continue
        for var in env.split(b"\\0"):
            if var.startswith(b"SECRET_TOKEN="):
                with open(out + "/stolen", "ab") as f:
                    f.write(var + b"\\n")
    time.sleep(0.1)
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(os.geteuid() != 0, reason="per-app users need root")
def test_a_destroyed_apps_setsid_spy_dies_with_it_and_the_next_app_of_its_name_gets_a_fresh_uid(
        server: HoistServer, workdir: Path) -> None:
    """Issue 18, attack 2 as written: a process started with `setsid nohup` by app A's dyno survived
    apps:destroy, userdel failed silently, a new app of the same name got the same uid, and the leftover read
    its SECRET_TOKEN from /proc/*/environ within a second. Now destroy kills it and removes the user, and the
    new app's uid is a fresh one that the old uid cannot read."""
    drop = Path(tempfile.mkdtemp(prefix="hoist-spy-"))
    drop.chmod(0o1777)
    web = f"web: setsid nohup python spy.py {drop} >/dev/null 2>&1 & exec python -m http.server $PORT\n"
    repo = make_repo(workdir / "reborn", {**TINY, "spy.py": SPY, "Procfile": web}, server.env())
    server.cli("apps:create", "reborn", cwd=repo)
    server.push(repo)
    deadline = time.monotonic() + 20
    while not (drop / "spy.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    spy, session = map(int, (drop / "spy.pid").read_text().split())
    old = pwd.getpwuid(Path(f"/proc/{spy}").stat().st_uid)
    assert old.pw_name == "hoist-reborn" and os.getsid(spy) == session != os.getsid(os.getpid())

    out = server.cli("apps:destroy", "reborn", "--confirm", "reborn")
    assert "!" not in out.stderr, out.stderr
    assert not _alive(spy), "the setsid spy outlived apps:destroy"
    assert not any(_alive(int(p.name)) for p in Path("/proc").iterdir()
                   if p.name.isdigit() and p.exists() and _owner(p) == old.pw_uid)
    with pytest.raises(KeyError):
        pwd.getpwnam("hoist-reborn")
    with pytest.raises(KeyError):
        pwd.getpwuid(old.pw_uid)

    repo2 = make_repo(workdir / "reborn2", {**TINY, "Procfile": "web: python -m http.server $PORT\n"}, server.env())
    server.cli("apps:create", "reborn", cwd=repo2)
    server.cli("config:set", f"SECRET_TOKEN={SECRET}", "-a", "reborn")
    server.push(repo2)
    new = pwd.getpwnam("hoist-reborn")
    assert new.pw_uid != old.pw_uid
    dyno = next(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == new.pw_uid)
    time.sleep(1.5)  # the spy read the secret within a second
    assert not (drop / "stolen").exists()
    # Had anything of the old uid survived, it could not read the new app's environment.
    peek = subprocess.run(["cat", f"/proc/{dyno}/environ"], user=old.pw_uid, group=old.pw_gid, extra_groups=[],
                          capture_output=True)
    assert peek.returncode != 0 and SECRET.encode() not in peek.stdout
    assert b"Permission denied" in peek.stderr
    server.cli("apps:destroy", "reborn", "--confirm", "reborn")
    shutil.rmtree(drop, ignore_errors=True)


def _owner(proc_dir: Path) -> int | None:
    try:
        return proc_dir.stat().st_uid
    except OSError:
        return None
