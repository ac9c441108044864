"""Pure add-on naming: which services and plans exist, add-on names, attachment vars."""
from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from hoist.addons.postgres.naming import COLORS, attachment_var

POSTGRES = "heroku-postgresql"
REDIS = "heroku-redis"

SERVICE_ALIASES = {
    "heroku-postgresql": POSTGRES, "postgresql": POSTGRES, "postgres": POSTGRES, "heroku-postgres": POSTGRES,
    "heroku-redis": REDIS, "redis": REDIS,
}
# Every plan is the same local database; the names are accepted so Heroku habits and app.json files work.
PLANS = {
    POSTGRES: ("essential-0", "essential-1", "essential-2", "mini", "basic", "hobby-dev", "hobby-basic",
               "standard-0", "standard-2", "premium-0"),
    REDIS: ("mini", "premium-0", "premium-1", "hobby-dev"),
}
DEFAULT_PLAN = {POSTGRES: "essential-0", REDIS: "mini"}
PREFIX = {POSTGRES: "postgresql", REDIS: "redis"}
PRIMARY_VAR = {POSTGRES: "DATABASE_URL", REDIS: "REDIS_URL"}
_WORDS = ("curved", "shaped", "rigid", "fluffy", "clear", "deep", "solid", "sinuous", "spherical", "tapered",
          "cubic", "flat", "silver", "crystalline", "opaque", "angular", "concentric", "aerodynamic", "vertical")


class PlanError(ValueError):
    """The plan names no service or plan hoist offers; the message lists what exists."""


@dataclass(frozen=True)
class Plan:
    service: str
    plan: str

    @property
    def name(self) -> str:
        return f"{self.service}:{self.plan}"


def all_plan_names() -> list[str]:
    return [f"{service}:{plan}" for service, plans in PLANS.items() for plan in plans]


def parse_plan(text: str) -> Plan:
    """``postgresql``, ``heroku-postgresql:essential-0``, ``redis`` ... -> Plan; anything else raises PlanError."""
    raw = (text or "").strip().lower()
    service_part, _, plan_part = raw.partition(":")
    service = SERVICE_ALIASES.get(service_part)
    if service is None:
        raise PlanError(f"Couldn't find either the add-on service or the add-on plan of {text!r}. "
                        f"Use one of: postgresql, redis, {', '.join(all_plan_names())}.")
    plan = plan_part or DEFAULT_PLAN[service]
    if plan not in PLANS[service]:
        raise PlanError(f"{service} has no plan {plan!r}. Use one of: "
                        + ", ".join(f"{service}:{p}" for p in PLANS[service]) + ".")
    return Plan(service, plan)


def addon_name(service: str, rng: random.Random | None = None) -> str:
    """A Heroku-style add-on name: ``postgresql-curved-12345``."""
    r = rng or random.Random()
    return f"{PREFIX[service]}-{r.choice(_WORDS)}-{r.randint(10000, 99999)}"


def next_var(service: str, existing: Iterable[str]) -> str:
    """The config var a new add-on is attached as: the primary one if free, else a colour name."""
    taken = set(existing)
    if PRIMARY_VAR[service] not in taken:
        return PRIMARY_VAR[service]
    if service == POSTGRES:
        return attachment_var(taken)
    for color in COLORS:
        var = f"HEROKU_REDIS_{color}_URL"
        if var not in taken:
            return var
    raise PlanError("no free HEROKU_REDIS_<COLOR>_URL name is left; destroy an unused Redis add-on first")


def attachment_name(var: str) -> str:
    """``DATABASE_URL`` -> ``DATABASE`` (Heroku names attachments after their var without _URL)."""
    return var[:-4] if var.endswith("_URL") else var


def var_for(ref: str) -> str:
    """``DATABASE`` or ``DATABASE_URL`` -> ``DATABASE_URL``."""
    ref = ref.strip().upper()
    return ref if ref.endswith("_URL") else ref + "_URL"
