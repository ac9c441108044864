"""The scheduler add-on's provider: it runs no server (its runs are one-off dynos the platform starts, see
core/schedule_runner.py), so provisioning hands back no URL and sets no config var; destroying it removes
its jobs (their rows go with the add-on's)."""
from __future__ import annotations

from pathlib import Path

from hoist.addons.provider import Provisioned
from hoist.state.addons import Addon


class SchedulerProvider:
    """scheduler: nothing to serve, nothing to stop."""

    async def start(self, addons: list[Addon]) -> None:
        return None

    async def provision(self, addon: Addon, directory: Path) -> Provisioned:
        return Provisioned("", {})

    async def deprovision(self, addon: Addon) -> None:
        return None

    async def stop(self) -> None:
        return None
