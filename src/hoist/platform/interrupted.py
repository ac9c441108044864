"""At start, before anything of an app runs: what the last hoist left half done is settled. Builds, app
setups, test runs and promotions it was running are marked failed; a connected repository's interrupted
deploy runs again; app directories move to apps/.ids/ID; slugs of builds killed with it are removed."""
from __future__ import annotations

import shutil
from collections.abc import Callable

from hoist.paths import Paths
from hoist.platform import app_dirs
from hoist.state import app_setups, apps, builds, connections, pipelines, test_runs
from hoist.state.db import Database


def settle(db: Database, paths: Paths, say: Callable[[str], None]) -> None:
    failed = builds.fail_pending_builds(db) + app_setups.fail_pending(db)
    test_runs.fail_running(db)
    connections.forget_unfinished(db)
    if failed:
        say(f"marked {failed} build(s) and app setup(s) interrupted by the last shutdown as failed")
    moved = app_dirs.adopt(paths, db)  # before anything of an app starts: its files under apps/.ids/ID
    if moved:
        say(f"moved {moved} app director{'y' if moved == 1 else 'ies'} to {paths.apps / '.ids'} "
            "(apps/NAME links there now)")
    remove_orphan_slugs(db, paths)
    if pipelines.fail_pending(db):
        say("marked the promotion(s) interrupted by the last shutdown as failed")


def remove_orphan_slugs(db: Database, paths: Paths) -> None:
    """A build killed with hoist leaves a slug directory with no row: remove it."""
    for app in apps.list_apps(db):
        slugs_dir = paths.slugs(app.name)
        if not slugs_dir.is_dir():
            continue
        known = {r["id"] for r in db.query("SELECT id FROM slugs WHERE app_id = ?", (app.id,))}
        for child in slugs_dir.iterdir():
            if child.name not in known:
                shutil.rmtree(child, ignore_errors=True)
