"""What a hoist killed mid-work leaves is settled at the next start: a pending build is failed, the slug
directory it was writing (no row) is removed, a finished build's slug stays, and it is all said."""
from __future__ import annotations

from pathlib import Path

from hoist.paths import Paths
from hoist.platform import app_dirs, interrupted
from hoist.state import apps as apps_t
from hoist.state import builds as builds_t
from hoist.state import releases as releases_t
from hoist.state import users as users_t
from hoist.state.db import Database


def test_a_killed_build_is_failed_and_its_half_slug_removed(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    db = Database(tmp_path / "hoist.db")
    owner = users_t.create_user(db, "a@example.com")
    app = apps_t.create_app(db, "notes", owner.id)
    app_dirs.create(paths, "notes", app.id)
    done = builds_t.create_build(db, app.id, owner.id, "abc")
    releases_t.create_slug(db, app.id, slug_id="kept", commit="abc", process_types={"web": "gunicorn app:app"},
                           env_dir=None, python_version=None, size=1, app_json=None)
    builds_t.finish_build(db, done.id, "succeeded", slug_id="kept")
    killed = builds_t.create_build(db, app.id, owner.id, "def")  # hoist died while it ran
    for slug in ("kept", "half"):
        (paths.slugs("notes") / slug).mkdir(parents=True)
        (paths.slugs("notes") / slug / "app.py").write_text("print(1)\n")
    said: list[str] = []

    interrupted.settle(db, paths, said.append)

    assert builds_t.get_build(db, app.id, killed.id).status == "failed"  # type: ignore[union-attr]
    assert builds_t.get_build(db, app.id, done.id).status == "succeeded"  # type: ignore[union-attr]
    assert (paths.slugs("notes") / "kept" / "app.py").exists()
    assert not (paths.slugs("notes") / "half").exists()
    assert said == ["marked 1 build(s) and app setup(s) interrupted by the last shutdown as failed"]

    said.clear()
    interrupted.settle(db, paths, said.append)  # a second start finds nothing to settle
    assert said == []
