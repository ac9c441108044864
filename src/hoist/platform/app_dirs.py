"""An app's directory on disk: apps/.ids/ID holds its files (repository, slugs, envs, logs, add-on
data, backups), and apps/NAME is a relative symlink to it (Paths.app follows it). Paths given to
builds and dynos are the ID ones, so renaming an app swaps one link: nothing moves under a running
dyno, a Redis server or a stored path."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from hoist.paths import APP_IDS, Paths
from hoist.state import apps as apps_t
from hoist.state.db import Database


def _link(paths: Paths, name: str, app_id: str) -> None:
    """Point apps/NAME at apps/.ids/ID, atomically (a new link renamed over the old path)."""
    link = paths.app_link(name)
    tmp = link.with_name(f".{name}.link-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(f"{APP_IDS}/{app_id}", tmp)
    os.replace(tmp, link)


def create(paths: Paths, name: str, app_id: str) -> Path:
    """A new app's directory and its link; a directory already at apps/NAME (left by an app that was
    not fully removed) becomes the new app's, as it did before this layout."""
    real = paths.app_by_id(app_id)
    real.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(real.parent, 0o711)  # per-app users pass through to their own directory, and list none
    link = paths.app_link(name)
    if link.is_dir() and not link.is_symlink() and not real.exists():
        os.rename(link, real)
    real.mkdir(mode=0o700, exist_ok=True)  # no o+x until an add-on server's user is given it (isolation)
    _link(paths, name, app_id)
    return real


def rename(paths: Paths, old: str, new: str, app_id: str) -> None:
    """apps/NEW links to the app's directory and apps/OLD is gone. The new link is made first: a
    process that asks for the app by its old name in between still finds it."""
    _link(paths, new, app_id)
    old_link = paths.app_link(old)
    if old_link.is_symlink():
        old_link.unlink()


def remove(paths: Paths, name: str) -> None:
    """The app's directory and its link (an app destroyed)."""
    real = paths.app(name)
    shutil.rmtree(real, ignore_errors=True)
    link = paths.app_link(name)
    if link.is_symlink():
        link.unlink()


def adopt(paths: Paths, db: Database) -> int:
    """At start: an app directory from before this layout (apps/NAME itself) moves to apps/.ids/ID and
    gets its link, and the paths stored for it (slug envs, backups, add-on data) follow; an app whose
    link is missing (a start interrupted half-way) gets it back. Run before anything of an app starts.
    Returns how many directories moved."""
    moved = 0
    for app in apps_t.list_apps(db):
        link = paths.app_link(app.name)
        real = paths.app_by_id(app.id)
        if link.is_symlink():
            continue
        real.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(real.parent, 0o711)  # per-app users pass through to their own directory
        if link.is_dir() and not real.exists():
            os.rename(link, real)
            moved += 1
        elif link.exists():
            continue  # both a directory here and one there: leave them for the admin to look at
        real.mkdir(exist_ok=True)
        _link(paths, app.name, app.id)
        apps_t.repoint_paths(db, app.id, str(link), str(real))  # idempotent: a second start finds nothing
    return moved
