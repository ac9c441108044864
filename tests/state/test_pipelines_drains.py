"""Pipelines, promotions and drains in the database: one pipeline per app, a promotion that completes with its
last target, promotions a stopped hoist left pending, drains found by id, token or URL, and all of it going
with a destroyed app."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.state import apps as apps_t
from hoist.state import drains as drains_t
from hoist.state import pipelines as pipelines_t
from hoist.state import users as users_t
from hoist.state.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "hoist.db")
    yield database
    database.close()


def test_an_app_is_in_one_pipeline_and_couplings_go_with_it(db: Database) -> None:
    user = users_t.create_user(db, "a@example.com")
    staging = apps_t.create_app(db, "shop-staging", user.id)
    prod = apps_t.create_app(db, "shop-prod", user.id)
    shop = pipelines_t.create_pipeline(db, "shop", user.id)
    other = pipelines_t.create_pipeline(db, "other", user.id)
    pipelines_t.add_coupling(db, shop.id, staging.id, "staging")
    pipelines_t.add_coupling(db, shop.id, prod.id, "production")
    with pytest.raises(sqlite3.IntegrityError):
        pipelines_t.add_coupling(db, other.id, staging.id, "staging")
    assert [c.stage for c in pipelines_t.couplings(db, shop.id)] == ["staging", "production"]
    assert pipelines_t.get_pipeline(db, "shop") == pipelines_t.get_pipeline(db, shop.id) == shop
    apps_t.delete_app(db, prod.id)
    assert [c.app_id for c in pipelines_t.couplings(db, shop.id)] == [staging.id]
    pipelines_t.delete_pipeline(db, shop.id)
    assert pipelines_t.coupling_of_app(db, staging.id) is None and apps_t.get_app(db, staging.id) is not None


def test_a_promotion_completes_with_its_last_target_and_pending_ones_fail_at_start(db: Database) -> None:
    user = users_t.create_user(db, "a@example.com")
    src, t1, t2 = (apps_t.create_app(db, n, user.id) for n in ("src-app", "one-app", "two-app"))
    p = pipelines_t.create_pipeline(db, "pipe", user.id)
    promo = pipelines_t.create_promotion(db, p.id, src.id, "rel-1", [t1.id, t2.id])
    first, second = pipelines_t.targets(db, promo.id)
    pipelines_t.finish_target(db, first.id, "succeeded", "rel-9")
    assert pipelines_t.get_promotion(db, promo.id).status == "pending"  # type: ignore[union-attr]
    pipelines_t.finish_target(db, second.id, "failed", None, "release v2 failed")
    assert pipelines_t.get_promotion(db, promo.id).status == "completed"  # type: ignore[union-attr]
    assert [(t.status, t.release_id, t.error_message) for t in pipelines_t.targets(db, promo.id)] == [
        ("succeeded", "rel-9", None), ("failed", None, "release v2 failed")]
    stuck = pipelines_t.create_promotion(db, p.id, src.id, "rel-1", [t1.id])
    assert pipelines_t.fail_pending(db) == 1
    (target,) = pipelines_t.targets(db, stuck.id)
    assert target.status == "failed" and "promote again" in (target.error_message or "")
    assert pipelines_t.get_promotion(db, stuck.id).status == "completed"  # type: ignore[union-attr]


def test_drains_by_id_token_or_url(db: Database) -> None:
    user = users_t.create_user(db, "a@example.com")
    app = apps_t.create_app(db, "drained", user.id)
    d = drains_t.create_drain(db, app.id, "syslog+tls://logs.example.com:6514")
    assert d.token.startswith("d.")
    for key in (d.id, d.token, d.url):
        assert drains_t.find_drain(db, app.id, key) == d
    assert drains_t.find_drain(db, app.id, "syslog+tls://logs.example.com") is None
    with pytest.raises(sqlite3.IntegrityError):
        drains_t.create_drain(db, app.id, d.url)
    assert drains_t.all_drains(db) == [("drained", d)]
    apps_t.delete_app(db, app.id)
    assert drains_t.all_drains(db) == []
