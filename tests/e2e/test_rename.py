"""apps:rename: under steady load the app moves to its new name with its dynos still running (same
processes), no request to the new name failing after the switch, the old host no longer routed; its
releases, config, add-ons, domains, logs, sleep setting, scheduler jobs and one-off dynos follow; the
git remote follows (hoist and the heroku CLI); bad names are refused; and after a restart of hoist
the renamed app is served and managed as any other, and destroying it leaves nothing behind."""
from __future__ import annotations

import os
import pwd
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.e2e.harness import HoistServer, example_files, make_repo
from tests.e2e.heroku_cli import Heroku, heroku_bin
from tests.e2e.sources import start_build, tarball, upload

APP_PY = '''import os, socket
from urllib.parse import urlsplit
from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return f"{os.environ.get('GREETING', 'Hello')} from hoist ({os.environ['DYNO']}) master={os.getppid()}\\n"

@app.route("/redis")
def redis():
    u = urlsplit(os.environ["REDIS_URL"])
    with socket.create_connection((u.hostname, u.port), 5) as s:
        s.sendall(f"AUTH {u.password}\\r\\nPING\\r\\n".encode())
        return s.recv(100).decode()
'''


class Traffic:
    """Requests to one host from a thread, each with the time it was sent and how it went."""

    def __init__(self, server: HoistServer, host: str) -> None:
        self.server, self.host = server, host
        self.results: list[tuple[float, int, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                sent = time.monotonic()
                try:
                    r = client.get(f"http://127.0.0.1:{self.server.port}/", headers={"Host": self.host})
                    self.results.append((sent, r.status_code, r.text[:80]))
                except httpx.HTTPError as exc:
                    self.results.append((sent, 0, repr(exc)))
                time.sleep(0.02)

    def __enter__(self) -> "Traffic":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def _user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _master_pid(server: HoistServer, app: str) -> str:
    return server.app_get(app).text.split("master=")[1].strip()


def test_rename_under_load_keeps_everything_running(server: HoistServer, workdir: Path) -> None:
    files = example_files("hello")
    files["app.py"] = APP_PY
    repo = make_repo(workdir / "renamed", files, server.env())
    server.cli("apps:create", "old-name", cwd=repo)
    server.cli("addons:create", "heroku-redis", "-a", "old-name")
    server.cli("addons:create", "scheduler", "-a", "old-name")
    server.cli("config:set", "GREETING=Hi", "-a", "old-name")
    server.push(repo)
    server.cli("scheduler:add", "echo from the scheduler", "--every", "1d", "-a", "old-name")
    server.cli("domains:add", "www.renamed-app.test", "-a", "old-name")
    server.cli("ps:sleep", "on", "-a", "old-name")
    server.cli("run:detached", "-a", "old-name", "sleep 4; echo one-off after the rename")
    assert server.app_get("old-name", "/redis").text.startswith("+OK")
    before = {
        "master": _master_pid(server, "old-name"),
        "dynos": [(d["id"], d["state"]) for d in server.api("GET", "/apps/old-name/dynos").json() if d["type"] == "web"],
        "releases": [r["version"] for r in server.api("GET", "/apps/old-name/releases").json()],
        "user": _user("hoist-old-name"),
    }
    assert before["dynos"] and before["dynos"][0][1] == "up"

    with Traffic(server, "old-name.localhost") as old, Traffic(server, "new-name.localhost") as new:
        time.sleep(1.5)
        asked = time.monotonic()
        out = server.cli("apps:rename", "new-name", cwd=repo).stdout
        switched = time.monotonic()
        time.sleep(2)
    assert "Renaming old-name to new-name... done" in out and "Git remote hoist updated" in out
    assert [r for r in old.results if r[0] < asked and r[1] != 200] == []
    after = [r for r in new.results if r[0] > switched]
    assert len(after) > 20 and [r for r in after if r[1] != 200] == [], after[:5]
    assert old.results[-1][1] == 404  # the old host is no longer routed

    # The same processes serve under the new name; everything keyed by the app came along.
    assert _master_pid(server, "new-name") == before["master"]
    dynos = server.api("GET", "/apps/new-name/dynos").json()
    assert [(d["id"], d["state"]) for d in dynos if d["type"] == "web"] == before["dynos"]
    assert [r["version"] for r in server.api("GET", "/apps/new-name/releases").json()] == before["releases"]
    assert server.app_get("new-name").text.startswith("Hi from hoist (web.1)")
    assert server.app_get("new-name", "/redis").text.startswith("+OK")
    assert httpx.get(f"http://127.0.0.1:{server.port}/", headers={"Host": "www.renamed-app.test"}).text.startswith("Hi")
    assert server.api("GET", "/apps/new-name/sleep").json()["enabled"] is True
    assert "echo from the scheduler" in server.cli("scheduler", "-a", "new-name").stdout
    assert server.api("GET", "/apps/old-name").status_code == 404
    time.sleep(3)
    logs = server.cli("logs", "-n", "1500", "-s", "app", "-a", "new-name").stdout
    assert "Release v" in logs and "Rename from old-name to new-name by user admin@hoist.local" in logs
    assert "one-off after the rename" in logs  # a one-off started before the rename logs under the new name
    assert any(a["action"] == "rename" for a in server.api("GET", "/apps/new-name/activity").json())
    home = server.home / "apps"
    assert (home / "new-name").is_symlink() and not os.path.lexists(home / "old-name")
    if before["user"] is not None:  # as root: the app's user has the new name and the same ids
        assert _user("hoist-old-name") is None
        renamed = _user("hoist-new-name")
        assert renamed is not None and (renamed.pw_uid, renamed.pw_gid) == (before["user"].pw_uid, before["user"].pw_gid)

    # git: the remote follows, and a push to the new name deploys
    remote = server.git(repo, "remote", "get-url", "hoist").stdout.strip()
    assert remote.endswith("/new-name.git")
    (repo / "app.py").write_text(APP_PY.replace("from hoist", "from the new name"))
    server.git(repo, "commit", "-qam", "after the rename")
    server.push(repo)
    assert "from the new name" in server.app_get("new-name").text


def test_bad_renames_are_refused(server: HoistServer, workdir: Path) -> None:
    server.cli("apps:create", "other-app", "--no-remote")
    cases = [("other-app", 422, "already taken"), ("api", 422, "reserved"), ("Bad_Name", 422, "not a valid app name"),
             ("x", 422, "not a valid app name"), (7, 422, "must be a string")]
    for name, status, words in cases:
        r = server.api("PATCH", "/apps/new-name", json={"name": name})
        assert r.status_code == status and words in r.json()["message"], (name, r.text)
    assert server.api("PATCH", "/apps/new-name", json={"name": "new-name"}).status_code == 200  # the same name: nothing
    # while a build runs
    tgz = tarball(workdir / "slow.tgz", {**example_files("hello"), "app.py": APP_PY.replace("from hoist", "from the new name"),
                                         "bin/post_compile": "#!/bin/sh\nsleep 3\n"})
    build = start_build(server, "new-name", upload(server, tgz)["get_url"]).json()
    r = server.api("PATCH", "/apps/new-name", json={"name": "during-build"})
    assert r.status_code == 409 and "build of new-name is running" in r.json()["message"]
    httpx.get(build["output_stream_url"], timeout=600)  # let it finish
    assert server.api("GET", "/apps/during-build").status_code == 404


def test_the_heroku_cli_renames_and_updates_its_remote(server: HoistServer, workdir: Path) -> None:
    if not heroku_bin():
        return
    git_host = f"127.0.0.1:{server.tls_port}"
    heroku = Heroku(server, workdir / "heroku-home", git_host=git_host)
    repo = make_repo(workdir / "hk", {"README": "x"}, server.env())
    server.git(repo, "remote", "add", "heroku", f"https://{git_host}/other-app.git")
    proc = heroku("apps:rename", "other-renamed", "--app", "other-app", cwd=repo)
    assert "Git remote heroku updated" in proc.stdout + proc.stderr
    assert server.git(repo, "remote", "get-url", "heroku").stdout.strip() == f"https://{git_host}/other-renamed.git"
    assert server.api("GET", "/apps/other-renamed").json()["name"] == "other-renamed"


def test_after_a_restart_the_renamed_app_is_served_managed_and_destroyed_cleanly(server: HoistServer) -> None:
    server.stop()
    server.start()
    server.wait_for("new-name", "from the new name", timeout=60)
    first = _master_pid(server, "new-name")
    server.cli("ps:restart", "-a", "new-name")
    server.wait_for("new-name", "from the new name", timeout=60)
    deadline = time.monotonic() + 60
    while _master_pid(server, "new-name") == first and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _master_pid(server, "new-name") != first  # restarted: other processes serve now
    server.cli("ps:scale", "web=2", "-a", "new-name")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        webs = [d for d in server.api("GET", "/apps/new-name/dynos").json() if d["type"] == "web"]
        if len(webs) == 2 and all(d["state"] == "up" for d in webs):
            break
        time.sleep(0.3)
    assert sorted(d["name"] for d in webs) == ["web.1", "web.2"] and all(d["state"] == "up" for d in webs)

    app_id = server.api("GET", "/apps/new-name").json()["id"]
    redis_dir = next((server.home / "apps" / ".ids" / app_id / "addons").iterdir())
    redis_pid = int((redis_dir / "redis.pid").read_text())
    server.cli("apps:destroy", "new-name", "--confirm", "new-name")
    assert not os.path.lexists(server.home / "apps" / "new-name")
    assert not (server.home / "apps" / ".ids" / app_id).exists()
    assert _user("hoist-new-name") is None and _user("hoist-old-name") is None
    assert not [p for p in (server.home / "run" / "dynos").iterdir() if "new-name" in p.name]
    deadline = time.monotonic() + 10
    while Path(f"/proc/{redis_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{redis_pid}").exists()
    server.cli("apps:create", "new-name", "--no-remote")  # the name is free again
    assert urlsplit(server.api("GET", "/apps/new-name").json()["web_url"]).hostname == "new-name.localhost"
