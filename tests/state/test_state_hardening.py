"""The database under hardship: a disk that fills during a transaction (nothing of it is kept, and the next
one works once there is room), a full disk under bookkeeping writes, and the rule that the stored config is
always the current release's (a release that goes live stores its config with its status)."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.state import apps as apps_t
from hoist.state import appusers
from hoist.state import config as config_t
from hoist.state import disk
from hoist.state import releases as releases_t
from hoist.state import users as users_t
from hoist.state.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "hoist.db")
    yield database
    database.close()


def test_a_release_that_goes_live_stores_its_config_and_one_that_fails_changes_nothing(db: Database) -> None:
    owner = users_t.create_user(db, "a@example.com")
    app = apps_t.create_app(db, "cfg", owner.id)
    config_t.apply_changes(db, app.id, {"A": "1"})
    failing = releases_t.create_release(db, app.id, slug_id=None, config={"A": "2", "B": "x"}, description="d",
                                        user_id=owner.id)
    assert config_t.get_config(db, app.id) == {"A": "1"}  # pending: nothing stored yet
    releases_t.set_release_status(db, failing.id, "failed")
    assert config_t.get_config(db, app.id) == {"A": "1"}
    live = releases_t.create_release(db, app.id, slug_id=None, config={"A": "3", "C": "y\nz"}, description="d",
                                     user_id=owner.id)
    releases_t.set_release_status(db, live.id, "succeeded")
    assert config_t.get_config(db, app.id) == {"A": "3", "C": "y\nz"}


def test_the_uid_high_water_mark_never_goes_down(db: Database) -> None:
    assert appusers.highest_uid(db) == 0 and appusers.get(db, "a") is None
    appusers.record(db, "a", "hoist-a", 1879048200)
    appusers.record(db, "b", "hoist-b", 1879048100)
    appusers.forget(db, "a")
    assert appusers.get(db, "a") is None and appusers.get(db, "b") == ("hoist-b", 1879048100)
    assert appusers.highest_uid(db) == 1879048200


@pytest.fixture
def small_disk() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = Path(tempfile.mkdtemp(prefix="hoist-state-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)
    mount.rmdir()


def _fill(path: Path) -> None:
    """Write zeros to `path` until the disk has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 512, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def test_a_transaction_the_disk_fills_under_is_rolled_back_whole_and_the_next_one_works(small_disk: Path) -> None:
    db = Database(small_disk / "hoist.db")
    owner = users_t.create_user(db, "a@example.com")
    _, token = users_t.create_token(db, owner.id)
    app = apps_t.create_app(db, "full", owner.id)
    config_t.apply_changes(db, app.id, {"KEEP": "1"})
    _fill(small_disk / "filler")
    assert disk.low(small_disk) and disk.space(small_disk)[1] > 0
    with pytest.raises(sqlite3.OperationalError) as caught:
        config_t.apply_changes(db, app.id, {f"K{i}": "v" * 4000 for i in range(300)})
    assert disk.is_full(caught.value)
    assert users_t.user_for_token(db, token) == owner  # reads answer
    users_t.touch_token(db, token)  # bookkeeping on a full disk is skipped, not an error
    assert config_t.get_config(db, app.id) == {"KEEP": "1"}  # nothing half-written
    (small_disk / "filler").unlink()
    config_t.apply_changes(db, app.id, {"AFTER": "2"})  # the connection is not stuck in the failed transaction
    assert config_t.get_config(db, app.id) == {"AFTER": "2", "KEEP": "1"}
    assert db.query_one("PRAGMA integrity_check")[0] == "ok"  # type: ignore[index]
    db.close()


def test_the_full_disk_message_names_the_home_and_the_free_space(small_disk: Path) -> None:
    _fill(small_disk / "filler")
    message = disk.full_message(small_disk)
    assert str(small_disk) in message and "MB free of 3.0 MB" in message and "then try again" in message
    assert disk.is_full(OSError(28, "No space left on device")) and not disk.is_full(OSError(2, "missing"))
