"""The Postgres provider: one database and one role per add-on on the PgServer, and the operations only
Postgres has (rotate credentials, reset, info)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hoist.addons.errors import AddonError
from hoist.addons.postgres import provision
from hoist.addons.postgres.server import PgServer
from hoist.addons.postgres.urls import parse_url
from hoist.addons.provider import Provisioned
from hoist.state.addons import Addon


class PostgresProvider:
    """heroku-postgresql. Apps' URLs go through the TLS front; hoist's admin connections go direct."""

    def __init__(self, server: PgServer, say: Callable[[str], None] = print) -> None:
        self.server = server
        self.say = say

    async def start(self, addons: list[Addon]) -> None:
        """Server start: the cluster, if any Postgres add-on exists."""
        if not addons:
            return
        try:
            await self.server.ensure_started()
        except AddonError as exc:
            self.say(f"PostgreSQL did not start: {exc}")

    async def ensure_started(self) -> None:
        await self.server.ensure_started()

    async def admin_url(self) -> str:
        return await self.server.admin_url()

    async def provision(self, addon: Addon, directory: Path) -> Provisioned:
        admin = await self.server.admin_url()
        creds = await asyncio.to_thread(provision.create, admin, addon.name)
        url = self.server.app_url(creds.url)
        return Provisioned(url, {"database": creds.database, "user": creds.user, "host": creds.host,
                                 "port": parse_url(url).port})

    async def deprovision(self, addon: Addon) -> None:
        """Drop the database and its roles (an add-on whose provisioning never finished has none)."""
        p = addon.provider
        if p.get("database"):
            admin = await self.server.admin_url()
            await asyncio.to_thread(provision.destroy, admin, str(p["database"]), str(p["user"]))

    async def rotate(self, addon: Addon) -> str:
        """A new password, old sessions ended; returns the new URL as the app gets it."""
        p = addon.provider
        admin = await self.server.admin_url()
        creds = await asyncio.to_thread(provision.rotate, admin, str(p["database"]), str(p["user"]))
        return self.server.app_url(creds.url)

    async def reset(self, addon: Addon) -> None:
        """Drop everything in the database; the credentials stay."""
        p = addon.provider
        admin = await self.server.admin_url()
        await asyncio.to_thread(provision.reset, admin, str(p["database"]), str(p["user"]))

    async def info(self, addon: Addon) -> dict[str, Any]:
        admin = await self.server.admin_url()
        return await asyncio.to_thread(provision.info, admin, str(addon.provider["database"]))

    async def stop(self) -> None:
        await self.server.stop()
