from __future__ import annotations

from pathlib import Path

from hoist.state import apps as apps_t
from hoist.state import connections as conn_t
from hoist.state import test_runs as runs_t
from hoist.state import users as users_t
from hoist.state.db import Database


def setup(tmp_path: Path) -> tuple[Database, str, str]:
    db = Database(tmp_path / "hoist.db")
    user = users_t.create_user(db, "a@example.com")
    app = apps_t.create_app(db, "demo", user.id)
    return db, app.id, user.id


def test_each_commit_is_claimed_once_and_each_delivery_taken_once(tmp_path: Path) -> None:
    db, app_id, user_id = setup(tmp_path)
    conn = conn_t.connect(db, app_id, "git://h/r", "main", False, "secret", "token", "tok", user_id, 60)
    assert "secret" not in repr(conn) and "tok" not in repr(conn)
    assert conn_t.claim_deploy(db, app_id, "a" * 40) and not conn_t.claim_deploy(db, app_id, "a" * 40)
    conn_t.finish_deploy(db, app_id, "a" * 40, "succeeded", "")
    assert conn_t.get(db, app_id).last_deployed == "a" * 40  # type: ignore[union-attr]
    conn_t.claim_deploy(db, app_id, "b" * 40)
    conn_t.finish_deploy(db, app_id, "b" * 40, "failed", "the build failed")
    got = conn_t.get(db, app_id)
    assert got is not None and got.last_deployed == "a" * 40 and got.last_status == "failed: the build failed"
    assert conn_t.deploys(db, app_id) == [("a" * 40, "succeeded", ""), ("b" * 40, "failed", "the build failed")]
    assert conn_t.take_delivery(db, app_id, "d1") and not conn_t.take_delivery(db, app_id, "d1")
    # Reconnecting starts over: nothing deployed from the new connection yet.
    conn_t.connect(db, app_id, "git://h/other", "main", True, "s2", "", "", user_id, 60)
    assert conn_t.deploys(db, app_id) == [] and conn_t.take_delivery(db, app_id, "d1")
    assert conn_t.disconnect(db, app_id) and conn_t.get(db, app_id) is None


def test_test_runs_are_numbered_per_app_and_keep_the_end_of_long_output(tmp_path: Path) -> None:
    db, app_id, user_id = setup(tmp_path)
    first = runs_t.create_run(db, app_id, "c1", "push", user_id)
    second = runs_t.create_run(db, app_id, "c2", "rerun", user_id)
    assert (first.number, second.number, first.status) == (1, 2, "running")
    runs_t.finish_run(db, first.id, "failed", 3, "test exited with status 3", "x" * (runs_t.MAX_OUTPUT + 10) + "END")
    got = runs_t.get_run(db, app_id, 1)
    assert got is not None and got.output.endswith("END") and "earlier output dropped" in got.output
    assert runs_t.fail_running(db) == 1 and runs_t.last_run(db, app_id).status == "errored"  # type: ignore[union-attr]
    assert runs_t.get_settings(db, app_id).enabled is False
    runs_t.set_settings(db, app_id, True, 30.0)
    assert runs_t.get_settings(db, app_id) == runs_t.CiSettings(True, 30.0)


def test_delivery_ids_older_than_the_window_are_forgotten(tmp_path: Path) -> None:
    db, app_id, user_id = setup(tmp_path)
    conn_t.connect(db, app_id, "git://h/r", "main", False, "secret", "", "", user_id, 60)
    with db.transaction() as c:
        c.execute("INSERT INTO repo_deliveries (app_id, delivery_id, received_at) VALUES (?,?,?)",
                  (app_id, "old", "2020-01-01T00:00:00Z"))
    assert conn_t.take_delivery(db, app_id, "new")
    assert [r["delivery_id"] for r in db.query("SELECT delivery_id FROM repo_deliveries")] == ["new"]
