"""Pure add-on naming: which services and plans exist, add-on names, attachment vars.

A *service* is what Heroku users type (``heroku-redis``, ``redistogo``, ``rabbitmq-bigwig``); its *kind* is
the provider that serves it here (every Redis service is a hoist Redis server). Old add-on names from
tutorials are services of their own, so the app gets the variable it reads (``REDISTOGO_URL``)."""
from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from hoist.addons.postgres.naming import COLORS, attachment_var

# Kinds (and the names of hoist's first two services, kept as they were).
POSTGRES = "heroku-postgresql"
REDIS = "heroku-redis"
AMQP = "amqp"
SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Service:
    """One add-on service as `addons:services` lists it."""

    name: str  # the slug: heroku-redis, redistogo
    kind: str  # the provider serving it: POSTGRES | REDIS | AMQP | SCHEDULER
    human_name: str
    plans: tuple[str, ...]  # the first is the default
    attach_as: str  # the first attachment's name (DATABASE, REDISTOGO); "" for a service without config vars
    prefix: str  # add-on names: postgresql-curved-12345
    color_base: str = ""  # later attachments: <color_base>_<COLOR> (HEROKU_REDIS_RED)
    suffixes: tuple[str, ...] = ("_URL",)  # the vars of one attachment (Bigwig: _URL, _RX_URL, _TX_URL)
    aliases: tuple[str, ...] = ()
    one_per_app: bool = False

    @property
    def default_plan(self) -> str:
        return self.plans[0]

    def vars_for(self, attachment: str) -> list[str]:
        """``RABBITMQ_BIGWIG`` -> its config vars."""
        return [attachment + s for s in self.suffixes]


SERVICES: tuple[Service, ...] = (
    Service(POSTGRES, POSTGRES, "Heroku Postgres",
            ("essential-0", "essential-1", "essential-2", "mini", "basic", "hobby-dev", "hobby-basic",
             "standard-0", "standard-2", "premium-0"),
            "DATABASE", "postgresql", "HEROKU_POSTGRESQL", aliases=("postgresql", "postgres", "heroku-postgres")),
    Service(REDIS, REDIS, "Heroku Key-Value Store (Redis)", ("mini", "premium-0", "premium-1", "hobby-dev"),
            "REDIS", "redis", "HEROKU_REDIS", aliases=("redis",)),
    Service("redistogo", REDIS, "Redis To Go (a hoist Redis server)", ("nano", "mini", "small", "medium", "large"),
            "REDISTOGO", "redistogo", "REDISTOGO"),
    Service("rediscloud", REDIS, "Redis Cloud (a hoist Redis server)", ("30", "100", "250", "500", "1000"),
            "REDISCLOUD", "rediscloud", "REDISCLOUD"),
    Service("rabbitmq-bigwig", AMQP, "RabbitMQ Bigwig (hoist's RabbitMQ)", ("pipkin",),
            "RABBITMQ_BIGWIG", "rabbitmq-bigwig", "RABBITMQ_BIGWIG", ("_URL", "_RX_URL", "_TX_URL")),
    Service("cloudamqp", AMQP, "CloudAMQP (hoist's RabbitMQ)", ("lemur", "tiger", "bunny", "rabbit"),
            "CLOUDAMQP", "cloudamqp", "CLOUDAMQP"),
    Service(AMQP, AMQP, "RabbitMQ (hoist)", ("mini",), "AMQP", "amqp", "AMQP", aliases=("rabbitmq",)),
    Service(SCHEDULER, SCHEDULER, "Heroku Scheduler", ("standard",), "", "scheduler", suffixes=(), one_per_app=True),
)
_BY_NAME = {s.name: s for s in SERVICES}
SERVICE_ALIASES = {alias: s.name for s in SERVICES for alias in (s.name, *s.aliases)}
# Kept for callers that name the two first services' tables directly.
PLANS = {s.name: s.plans for s in SERVICES}
DEFAULT_PLAN = {s.name: s.default_plan for s in SERVICES}
PREFIX = {s.name: s.prefix for s in SERVICES}
PRIMARY_VAR = {s.name: s.vars_for(s.attach_as)[0] for s in SERVICES if s.suffixes}
_WORDS = ("curved", "shaped", "rigid", "fluffy", "clear", "deep", "solid", "sinuous", "spherical", "tapered",
          "cubic", "flat", "silver", "crystalline", "opaque", "angular", "concentric", "aerodynamic", "vertical")
# Attachments are named after their vars without these endings (longest first).
_VAR_ENDINGS = ("_RX_URL", "_TX_URL", "_URL")


class PlanError(ValueError):
    """The plan names no service or plan hoist offers; the message lists what exists."""


@dataclass(frozen=True)
class Plan:
    service: str
    plan: str

    @property
    def name(self) -> str:
        return f"{self.service}:{self.plan}"


def service(name: str) -> Service:
    """The service called `name` (or one of its aliases); PlanError names the services that exist."""
    found = _BY_NAME.get(SERVICE_ALIASES.get((name or "").strip().lower(), ""))
    if found is None:
        raise PlanError(f"Couldn't find the add-on service {name!r}. Services: {', '.join(_BY_NAME)} "
                        "(`hoist addons:services` lists them).")
    return found


def kind(service_name: str) -> str:
    """The provider kind serving an add-on of this service (rows store the service's name)."""
    return service(service_name).kind


def all_plan_names() -> list[str]:
    return [f"{s.name}:{plan}" for s in SERVICES for plan in s.plans]


def parse_plan(text: str) -> Plan:
    """``postgresql``, ``heroku-postgresql:essential-0``, ``redistogo:nano`` ... -> Plan; else PlanError."""
    raw = (text or "").strip().lower()
    service_part, _, plan_part = raw.partition(":")
    name = SERVICE_ALIASES.get(service_part)
    if name is None:
        raise PlanError(f"Couldn't find either the add-on service or the add-on plan of {text!r}. "
                        f"Use one of: postgresql, redis, {', '.join(all_plan_names())}.")
    svc = _BY_NAME[name]
    plan = plan_part or svc.default_plan
    if plan not in svc.plans:
        raise PlanError(f"{name} has no plan {plan!r}. Use one of: "
                        + ", ".join(f"{name}:{p}" for p in svc.plans) + ".")
    return Plan(name, plan)


def addon_name(service_name: str, rng: random.Random | None = None) -> str:
    """A Heroku-style add-on name: ``postgresql-curved-12345``."""
    r = rng or random.Random()
    return f"{service(service_name).prefix}-{r.choice(_WORDS)}-{r.randint(10000, 99999)}"


def next_vars(service_name: str, existing: Iterable[str]) -> list[str]:
    """The config vars a new add-on is attached as: the service's own if free, else a colour's; [] for a
    service that sets none (the scheduler)."""
    svc = service(service_name)
    if not svc.suffixes:
        return []
    taken = set(existing)
    first = svc.vars_for(svc.attach_as)
    if not taken & set(first):
        return first
    if svc.name == POSTGRES:
        return [attachment_var(taken)]
    for color in COLORS:
        candidate = svc.vars_for(f"{svc.color_base}_{color}")
        if not taken & set(candidate):
            return candidate
    raise PlanError(f"no free {svc.color_base}_<COLOR>_URL name is left; destroy an unused {svc.name} add-on "
                    "first")


def next_var(service_name: str, existing: Iterable[str]) -> str:
    """The primary config var a new add-on is attached as."""
    found = next_vars(service_name, existing)
    if not found:
        raise PlanError(f"{service_name} sets no config vars")
    return found[0]


def attachment_name(var: str) -> str:
    """``DATABASE_URL`` -> ``DATABASE``; ``RABBITMQ_BIGWIG_RX_URL`` -> ``RABBITMQ_BIGWIG`` (Heroku names
    attachments after their vars without the endings)."""
    for ending in _VAR_ENDINGS:
        if var.endswith(ending):
            return var[: -len(ending)]
    return var


def attachments(config_vars: Iterable[str]) -> dict[str, list[str]]:
    """An add-on's vars grouped by attachment, in order: {"RABBITMQ_BIGWIG": [_URL, _RX_URL, _TX_URL]}."""
    grouped: dict[str, list[str]] = {}
    for var in config_vars:
        grouped.setdefault(attachment_name(var), []).append(var)
    return grouped


def var_for(ref: str) -> str:
    """``DATABASE`` or ``DATABASE_URL`` -> ``DATABASE_URL``."""
    ref = ref.strip().upper()
    return ref if ref.endswith("_URL") else ref + "_URL"
