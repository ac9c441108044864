"""Pure add-on naming: plans, names, attachment vars."""
from __future__ import annotations

import random

import pytest

from hoist.addons import plans


@pytest.mark.parametrize("text,expected", [
    ("postgresql", "heroku-postgresql:essential-0"), ("heroku-postgresql", "heroku-postgresql:essential-0"),
    ("heroku-postgresql:mini", "heroku-postgresql:mini"), ("redis", "heroku-redis:mini"),
    ("HEROKU-REDIS:premium-0", "heroku-redis:premium-0"),
])
def test_parse_plan_accepts_heroku_spellings(text: str, expected: str) -> None:
    assert plans.parse_plan(text).name == expected


@pytest.mark.parametrize("text", ["mysql", "", "heroku-postgresql:huge", "redis:essential-0"])
def test_parse_plan_refuses_unknown_plans_with_the_list(text: str) -> None:
    with pytest.raises(plans.PlanError, match="essential-0|mini"):
        plans.parse_plan(text)


def test_addon_names_look_like_herokus() -> None:
    name = plans.addon_name(plans.POSTGRES, random.Random(1))
    assert name.startswith("postgresql-") and name.rsplit("-", 1)[1].isdigit()
    assert plans.addon_name(plans.REDIS).startswith("redis-")


def test_next_var_primary_then_colours() -> None:
    assert plans.next_var(plans.POSTGRES, []) == "DATABASE_URL"
    first = plans.next_var(plans.POSTGRES, ["DATABASE_URL"])
    assert first.startswith("HEROKU_POSTGRESQL_") and first.endswith("_URL")
    assert plans.next_var(plans.POSTGRES, ["DATABASE_URL", first]) != first
    assert plans.next_var(plans.REDIS, ["REDIS_URL"]).startswith("HEROKU_REDIS_")
    assert plans.attachment_name("DATABASE_URL") == "DATABASE" and plans.var_for("database") == "DATABASE_URL"
