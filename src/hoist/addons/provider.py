"""The shape every add-on provider has, so the platform treats them alike and a new one slots in beside them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hoist.state.addons import Addon


@dataclass(frozen=True)
class Provisioned:
    """What provisioning hands back: the URL the app gets in its config, and what the provider keeps on the
    add-on's row to find the resource again (never a password)."""

    url: str
    provider: dict[str, Any]


class Provider(Protocol):
    """One service (heroku-postgresql, heroku-redis, ...). Every method raises an AddonError subclass whose
    message says what went wrong and what to do next; servers it runs are children of the one keeper."""

    async def start(self, addons: list[Addon]) -> None:
        """Server start: bring up what these existing add-ons need; report failures (`say`), never raise."""

    async def provision(self, addon: Addon, directory: Path) -> Provisioned:
        """A new resource for `addon`; `directory` is the app's place for its files."""
        ...

    async def deprovision(self, addon: Addon) -> None:
        """Remove the add-on's resource (its data goes too)."""

    async def stop(self) -> None:
        """Server stop: stop every server the provider runs."""
