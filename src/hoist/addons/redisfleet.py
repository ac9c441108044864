"""One RedisServer per Redis add-on, kept under the app's directory, started and stopped with hoist."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from hoist.procs import free_port, random_password
from hoist.addons.redis import RedisError, RedisServer
from hoist.state.addons import Addon


class RedisFleet:
    def __init__(self, say: Callable[[str], None] = print) -> None:
        self.say = say
        self.servers: dict[str, RedisServer] = {}  # add-on id -> server

    @staticmethod
    def new_provider(directory: Path) -> dict[str, object]:
        """Port and password for a new add-on (the password stays in hoist's database, never in argv)."""
        return {"dir": str(directory), "port": free_port(), "password": random_password()}

    def server_for(self, addon: Addon) -> RedisServer:
        p = addon.provider
        server = self.servers.get(addon.id)
        if server is None:
            server = RedisServer(Path(str(p["dir"])), int(p["port"]), str(p["password"]))
            self.servers[addon.id] = server
        return server

    async def start(self, addon: Addon) -> RedisServer:
        server = self.server_for(addon)
        await asyncio.to_thread(server.start)
        return server

    async def start_all(self, addons: list[Addon]) -> None:
        for addon in addons:
            try:
                await self.start(addon)
            except RedisError as exc:
                self.say(f"Redis add-on {addon.name} did not start: {exc}")

    async def restart_dead(self) -> None:
        """A Redis server that died is started again (called by the add-on watchdog)."""
        for addon_id, server in list(self.servers.items()):
            if not await asyncio.to_thread(server.is_running):
                self.say(f"Redis on port {server.port} is not running; restarting it")
                try:
                    await asyncio.to_thread(server.start)
                except RedisError as exc:
                    self.say(f"Redis did not restart: {exc}")

    async def stop(self, addon: Addon) -> None:
        server = self.servers.pop(addon.id, None) or self.server_for(addon)
        self.servers.pop(addon.id, None)
        await asyncio.to_thread(server.stop)

    async def stop_all(self) -> None:
        for server in self.servers.values():
            await asyncio.to_thread(server.stop)
        self.servers.clear()
