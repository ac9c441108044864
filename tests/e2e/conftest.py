"""Fixtures: one real hoist server per test module, in a fresh home."""
from __future__ import annotations

import pwd
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from hoist import unixusers
from tests.e2e.harness import HoistServer


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: concurrent pytest runs as the same user prune each other's.
    path = Path(tempfile.mkdtemp(prefix="hoist-e2e-"))
    path.chmod(0o711)  # as root, per-app users must be able to pass through to their apps
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[HoistServer]:
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user")
    srv.start()
    # `hoist login` writes ~/.netrc (a throwaway HOME), which plain `git push` then uses.
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()
    remove_app_users(workdir)


def remove_app_users(root: Path) -> None:
    """System users made by a server run as root for what lives under this temp dir: apps' (hoist-APP) and
    add-on servers' (hoist_redis_ID), with anything still running as them."""
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(("hoist-", "hoist_")) and entry.pw_dir.startswith(str(root) + "/"):
            unixusers.remove(unixusers.Account(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir)),
                             timeout=5)
