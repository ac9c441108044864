"""A disk that fills during a build: the push fails, no half-written slug or env
is left, the running release keeps serving, and the next push works."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

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
