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


@pytest.mark.parametrize("text,expected,var", [
    ("redistogo", "redistogo:nano", "REDISTOGO_URL"), ("redistogo:nano", "redistogo:nano", "REDISTOGO_URL"),
    ("rediscloud", "rediscloud:30", "REDISCLOUD_URL"), ("heroku-redis", "heroku-redis:mini", "REDIS_URL"),
    ("cloudamqp", "cloudamqp:lemur", "CLOUDAMQP_URL"), ("amqp", "amqp:mini", "AMQP_URL"),
    ("rabbitmq", "amqp:mini", "AMQP_URL"), ("rabbitmq-bigwig", "rabbitmq-bigwig:pipkin", "RABBITMQ_BIGWIG_URL"),
])
def test_old_names_are_services_of_their_own_with_the_var_the_app_reads(text: str, expected: str, var: str) -> None:
    plan = plans.parse_plan(text)
    assert plan.name == expected
    assert plans.next_var(plan.service, []) == var
    assert plans.kind(plan.service) in (plans.REDIS, plans.AMQP)


def test_bigwig_sets_three_vars_as_one_attachment_and_a_second_gets_a_colour() -> None:
    first = plans.next_vars("rabbitmq-bigwig", ["DATABASE_URL"])
    assert first == ["RABBITMQ_BIGWIG_URL", "RABBITMQ_BIGWIG_RX_URL", "RABBITMQ_BIGWIG_TX_URL"]
    assert plans.attachments(first) == {"RABBITMQ_BIGWIG": first}
    second = plans.next_vars("rabbitmq-bigwig", first)
    assert len(second) == 3 and second[0].startswith("RABBITMQ_BIGWIG_") and not set(second) & set(first)
    assert plans.attachments(second) == {second[0].removesuffix("_URL"): second}
    assert plans.next_vars("redistogo", ["REDISTOGO_URL"])[0].startswith("REDISTOGO_")
    assert plans.attachment_name("RABBITMQ_BIGWIG_TX_URL") == "RABBITMQ_BIGWIG"


def test_the_scheduler_sets_no_vars_and_is_one_per_app() -> None:
    assert plans.parse_plan("scheduler").name == "scheduler:standard"
    assert plans.next_vars("scheduler", []) == [] and plans.service("scheduler").one_per_app
    with pytest.raises(plans.PlanError):
        plans.next_var("scheduler", [])


def test_every_service_is_listed_with_a_default_plan_and_unknown_ones_are_refused() -> None:
    names = [s.name for s in plans.SERVICES]
    assert len(names) == len(set(names))
    for s in plans.SERVICES:
        assert plans.parse_plan(s.name).plan == s.default_plan
        assert plans.addon_name(s.name).startswith(s.prefix + "-")
    with pytest.raises(plans.PlanError, match="addons:services"):
        plans.service("heroku-kafka")
    with pytest.raises(plans.PlanError, match="redistogo:nano"):
        plans.parse_plan("redistogo:gigantic")
