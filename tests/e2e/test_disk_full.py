"""A disk that fills during a build: the push fails, no half-written slug or env
is left, the running release keeps serving, and the next push works. A disk that is full: reads answer,
writes are refused saying where and how much room is left, and nothing is half-written."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


@pytest.fixture(scope="module")
def small_disk_server() -> Iterator[HoistServer]:
    work = Path(tempfile.mkdtemp(prefix="hoist-e2e-disk-"))
    work.chmod(0o711)  # per-app users must be able to pass through to the home
    mount = work / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120m", "tmpfs", str(mount)], check=True)
    srv = HoistServer(home=mount / "home", user_home=work / "user")
    try:
        srv.start()
        srv.cli("login")
        yield srv
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()
        subprocess.run(["umount", "-l", str(mount)], check=False)
        remove_app_users(work)
        shutil.rmtree(work, ignore_errors=True)


def test_disk_full_during_build_leaves_nothing_half_written(small_disk_server: HoistServer) -> None:
    server = small_disk_server
    repo = make_repo(Path(tempfile.mkdtemp(prefix="hoist-disk-repo-")), example_files("hello"), server.env())
    server.cli("apps:create", "diskfull", cwd=repo)
    server.push(repo)
    assert server.app_get("diskfull").text.startswith("Hello")
    slugs = server.home / "apps" / "diskfull" / "slugs"
    before = sorted(p.name for p in slugs.iterdir())

    filler = "#!/bin/bash\nhead -c 400000000 /dev/zero > fill.bin\n"
    commit_files(repo, {"bin/post_compile": filler, "app.py": (repo / "app.py").read_text() + "\n# v2\n"},
                 server.env(), "fills the disk")
    push = server.push(repo, check=False)
    assert push.returncode != 0
    assert "bin/post_compile failed" in push.stderr or "No space left" in push.stderr
    assert sorted(p.name for p in slugs.iterdir()) == before
    envs = server.home / "apps" / "diskfull" / "envs"
    assert not [p for p in envs.iterdir() if p.name.startswith(".tmp")]
    assert server.app_get("diskfull").text.startswith("Hello")

    commit_files(repo, {"bin/post_compile": None}, server.env(), "fixed")
    server.push(repo)
    assert server.app_get("diskfull").text.startswith("Hello")


def _fill(path: Path) -> None:
    """Write zeros to `path` until the disk has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def test_a_full_home_answers_reads_and_refuses_writes_saying_where_and_how_much(
        small_disk_server: HoistServer) -> None:
    """Issue 18, "Why" 8 as written: a full disk took down the whole API, reads included (every request wrote
    its token's last use). Now reads answer, writes get 507 naming HOIST_HOME and the free space, a push is
    refused before git writes anything, nothing is half-written, and all works again once there is room."""
    server = small_disk_server
    app = "diskfull"
    before = {path: server.api("GET", path).json() for path in
              (f"/apps/{app}/config-vars", f"/apps/{app}/releases", f"/apps/{app}/builds", "/apps")}
    repo = Path(tempfile.mkdtemp(prefix="hoist-disk-repo2-"))
    make_repo(repo, example_files("hello"), server.env())
    server.git(repo, "remote", "add", "hoist", f"{server.url}/{app}.git")
    _fill(server.home / "filler")
    try:
        for path in (*before, "/account", f"/apps/{app}", f"/apps/{app}/dynos", f"/apps/{app}/formation",
                     f"/apps/{app}/addons", f"/apps/{app}/domains"):
            assert server.api("GET", path).status_code == 200, path
        for args in (["apps"], ["config", "-a", app], ["releases", "-a", app], ["ps", "-a", app],
                     ["logs", "-n", "5", "-a", app], ["builds", "-a", app]):
            server.cli(*args)
        assert server.api("POST", f"/apps/{app}/log-sessions", json={"lines": 5}).status_code == 201

        for method, path, body in (("PATCH", f"/apps/{app}/config-vars", {"A": "1"}), ("POST", "/apps", {"name": "nope"}),
                                   ("PATCH", f"/apps/{app}/formation/web", {"quantity": 2}),
                                   ("POST", f"/apps/{app}/addons", {"plan": "heroku-redis"})):
            r = server.api(method, path, json=body)
            assert r.status_code == 507 and r.json()["id"] == "disk_full", (path, r.text)
            assert str(server.home) in r.json()["message"] and "MB free of" in r.json()["message"]
        refused = server.cli("config:set", "A=1", "-a", app, check=False)
        assert refused.returncode == 1 and "HOIST_HOME" in refused.stderr and "then try again" in refused.stderr
        push = server.push(repo, check=False)
        assert push.returncode != 0 and f"remote error: HOIST_HOME ({server.home}) is out of disk space" in push.stderr
        assert server.app_get(app).text.startswith("Hello")

        for path, was in before.items():
            assert server.api("GET", path).json() == was, path
        assert not (server.home / "apps" / "nope").exists()
        with sqlite3.connect(f"file:{server.home / 'hoist.db'}?mode=ro", uri=True) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        (server.home / "filler").unlink()
    server.cli("config:set", "A=1", "-a", app)
    commit_files(repo, {"app.py": (repo / "app.py").read_text() + "\n# after the disk was freed\n"},
                 server.env(), "after")
    server.git(repo, "push", "-f", "hoist", "HEAD:main")
    assert server.app_get(app).text.startswith("Hello")
    assert len(server.api("GET", f"/apps/{app}/releases").json()) == len(before[f"/apps/{app}/releases"]) + 2
