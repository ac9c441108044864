"""App directories: apps/.ids/ID reached through the link apps/NAME; a rename swaps the link; an app
directory from before that layout is adopted at start, with the paths stored for it."""
from __future__ import annotations

import os
from pathlib import Path

from hoist.paths import Paths
from hoist.platform import app_dirs
from hoist.state import addons as addons_t
from hoist.state import apps as apps_t
from hoist.state import backups as backups_t
from hoist.state import releases as releases_t
from hoist.state import users as users_t
from hoist.state.db import Database


def _db(home: Path) -> tuple[Database, str]:
    db = Database(home / "hoist.db")
    owner = users_t.create_user(db, "a@example.com")
    return db, apps_t.create_app(db, "notes", owner.id).id


def test_create_rename_remove(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    db, app_id = _db(tmp_path)
    real = app_dirs.create(paths, "notes", app_id)
    assert real == tmp_path / "apps" / ".ids" / app_id and real.is_dir()
    assert os.readlink(tmp_path / "apps" / "notes") == f".ids/{app_id}"
    assert paths.app("notes") == real and paths.slug("notes", "s1") == real / "slugs" / "s1"
    (real / "slugs").mkdir()
    app_dirs.rename(paths, "notes", "jots", app_id)
    assert paths.app("jots") == real and not os.path.lexists(tmp_path / "apps" / "notes")
    assert paths.app("notes") == tmp_path / "apps" / "notes"  # the old name is free
    app_dirs.remove(paths, "jots")
    assert not real.exists() and not os.path.lexists(tmp_path / "apps" / "jots")


def test_an_old_layout_is_adopted_with_its_stored_paths(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    db, app_id = _db(tmp_path)
    old = tmp_path / "apps" / "notes"
    (old / "envs" / "k1").mkdir(parents=True)
    (old / "addons" / "redis-a").mkdir(parents=True)
    (old / "repo.git").mkdir()
    releases_t.create_slug(db, app_id, slug_id="s1", commit=None, process_types={}, env_dir=f"{old}/envs/k1",
                           python_version=None, size=0, app_json=None)
    addon = addons_t.create_addon(db, app_id, "redis-a", "heroku-redis", "mini", ["REDIS_URL"],
                                  {"dir": f"{old}/addons/redis-a", "port": 1})
    backups_t.start_backup(db, app_id, addon.id, "redis-a", f"{old}/backups", "manual")
    other = tmp_path / "apps" / "notes-other"  # a prefix of no path of this app's: untouched
    assert paths.app("notes") == old

    assert app_dirs.adopt(paths, db) == 1
    real = tmp_path / "apps" / ".ids" / app_id
    assert paths.app("notes") == real and (real / "repo.git").is_dir() and (tmp_path / "apps" / "notes").is_symlink()
    slug = releases_t.get_slug(db, "s1")
    assert slug is not None and slug.env_dir == f"{real}/envs/k1"
    assert addons_t.get_addon(db, addon.id).provider["dir"] == f"{real}/addons/redis-a"  # type: ignore[union-attr]
    assert backups_t.list_backups(db, app_id)[0].path.startswith(f"{real}/backups")
    assert not other.exists()
    assert app_dirs.adopt(paths, db) == 0  # once


def test_a_missing_link_is_made_again(tmp_path: Path) -> None:
    """A start interrupted between moving a directory and linking it: the next start links it."""
    paths = Paths(tmp_path)
    db, app_id = _db(tmp_path)
    real = app_dirs.create(paths, "notes", app_id)
    (tmp_path / "apps" / "notes").unlink()
    assert app_dirs.adopt(paths, db) == 0
    assert paths.app("notes") == real
