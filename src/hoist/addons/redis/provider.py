"""The Redis provider: one RedisServer per add-on, its files under the app's directory, each a child of the
keeper (restarted if it dies), started and stopped with hoist."""
from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

from hoist.addons.errors import AddonError
from hoist.addons.provider import Provisioned
from hoist.addons.redis.server import RedisServer, user_name
from hoist.keeper import Detached, Keeper
from hoist.procs import free_port, random_password
from hoist.state.addons import Addon


class RedisProvider:
    """heroku-redis: a password-protected server of its own for every add-on."""

    def __init__(self, keeper: Keeper, say: Callable[[str], None] = print, also: str = "") -> None:
        self.keeper = keeper
        self.also = also  # HOIST_SWARM_HOST_ADDR with the swarm scheduler: each server listens there too
        self.say = say
        self.children: dict[str, Detached[RedisServer]] = {}  # add-on id -> its server, as the keeper's child

    @staticmethod
    def new_provider(directory: Path) -> dict[str, object]:
        """Port and password for a new add-on (the password stays in hoist's database, never in argv)."""
        return {"dir": str(directory), "port": free_port(), "password": random_password()}

    def child_for(self, addon: Addon) -> Detached[RedisServer]:
        child = self.children.get(addon.id)
        if child is None:
            p = addon.provider
            server = RedisServer(Path(str(p["dir"])), int(p["port"]), str(p["password"]), user_name(addon.id),
                                 self.also)
            child = Detached(f"Redis on port {server.port}", server)
            self.children[addon.id] = child
        return child

    async def start(self, addons: list[Addon]) -> None:
        """Server start: every add-on's server; one that does not start is reported and tried again."""
        for addon in addons:
            try:
                await self.keeper.start(self.child_for(addon), retry=True)
            except AddonError as exc:
                self.say(f"Redis add-on {addon.name} did not start: {exc}")

    async def provision(self, addon: Addon, directory: Path) -> Provisioned:
        provider = self.new_provider(directory / addon.name)
        child = self.child_for(Addon(**{**addon.__dict__, "provider": provider}))
        try:
            await self.keeper.start(child)
        except AddonError:
            self.children.pop(addon.id, None)
            raise
        return Provisioned(child.daemon.url, provider)

    async def deprovision(self, addon: Addon) -> None:
        """Stop the server, then remove its user (and whatever runs as it) and its files."""
        child = self.child_for(addon)
        await self.keeper.stop(child)
        self.children.pop(addon.id, None)
        problem = await asyncio.to_thread(child.daemon.remove_user)
        if problem is not None:
            self.say(f"Redis add-on {addon.name}: {problem}")
        await asyncio.to_thread(shutil.rmtree, child.daemon.directory, True)

    async def stop(self) -> None:
        for child in self.children.values():
            await self.keeper.stop(child)
        self.children.clear()
