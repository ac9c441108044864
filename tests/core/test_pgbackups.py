"""The backup scheduler against the real cluster: a due schedule captures, prunes, and moves to tomorrow."""
from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest

from hoist.addons.postgres.provider import PostgresProvider
from hoist.addons.postgres.provision import Credentials
from hoist.addons.postgres.server import PgServer
from hoist.core.pgbackups import Backups
from hoist.core.platform import Platform
from hoist.dynos.local import LocalScheduler
from hoist.dynos.supervisor import Supervisor
from hoist.keeper import Keeper
from hoist.logs.store import LogStore
from hoist.paths import Paths
from hoist.settings import Settings
from hoist.state import addons as addons_t
from hoist.state import apps as apps_t
from hoist.state import backups as backups_t
from hoist.state import config as config_t
from hoist.state import users as users_t
from hoist.state.db import Database
from tests.addons.conftest import admin_url, cluster, make_db, pg_root  # noqa: F401 (the shared cluster's fixtures)


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hoist-sched-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_due_schedule_captures_and_keeps_the_last_n(home: Path, admin_url: str,
                                                    make_db: Callable[[str], Credentials]) -> None:
    asyncio.run(_scenario(home, admin_url, make_db))


async def _scenario(home: Path, admin_url: str, make_db: Callable[[str], Credentials]) -> None:
    paths, db = Paths(home), Database(home / "hoist.db")
    logs = LogStore(paths.logs, keep=100)
    platform = Platform(Settings.load({"home": home}), paths, db, logs,
                        Supervisor(LocalScheduler(home / "run"), logs, lambda: None))
    creds = make_db("sched")
    user = users_t.create_user(db, "a@b.c")
    app = apps_t.create_app(db, "sched", user.id)
    config_t.apply_changes(db, app.id, {"DATABASE_URL": creds.url})
    addon = addons_t.create_addon(db, app.id, "postgresql-sched-1", "heroku-postgresql", "essential-0",
                                  ["DATABASE_URL"], {"database": creds.database, "user": creds.user})
    now = [datetime(2030, 1, 1, 1, 59, tzinfo=timezone.utc)]
    pg = PostgresProvider(PgServer(Keeper(), home / "pg", external_url=admin_url))
    backups = Backups(platform, pg, clock=lambda: now[0])
    sched = backups.schedule(addon, "02:00", keep=2)
    assert sched.next_run == "2030-01-01T02:00:00Z"
    assert await backups.run_due() == 0
    for day in range(3):
        now[0] = datetime(2030, 1, 1 + day, 2, 0, 30, tzinfo=timezone.utc)
        assert await backups.run_due() == 1
        assert await backups.run_due() == 0  # not twice in one day
    kept = backups_t.list_backups(db, app.id)
    assert [b.num for b in kept] == [2, 3] and all(b.status == "completed" for b in kept)
    assert all(Path(b.path).stat().st_size > 0 for b in kept)
    assert not (paths.app("sched") / "backups" / "b001.dump").exists()
    assert backups_t.get_schedule(db, addon.id).next_run == "2030-01-04T02:00:00Z"  # type: ignore[union-attr]
    db.close()
    logs.close()
