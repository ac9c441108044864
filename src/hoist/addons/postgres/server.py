"""The PostgreSQL server hoist provisions on: its own cluster and the cluster's TLS front (started on first
use, both children of the keeper, restarted after a crash), or an existing server named by HOIST_POSTGRES_URL."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from hoist.addons.postgres.cluster import Cluster
from hoist.addons.postgres.front import TlsFront
from hoist.keeper import Detached, Keeper


class PgServer:
    def __init__(self, keeper: Keeper, data_dir: Path, external_url: str = "", say: Callable[[str], None] = print,
                 front: TlsFront | None = None) -> None:
        self.keeper = keeper
        self.cluster = None if external_url else Cluster(data_dir)
        self.child = None if self.cluster is None else Detached("PostgreSQL", self.cluster)
        # Apps reach the embedded cluster through its TLS front; hoist's own admin connections go direct.
        self.front = None if external_url else front
        self.external_url = external_url
        self.say = say
        self._lock = asyncio.Lock()

    @property
    def embedded(self) -> bool:
        return self.cluster is not None

    async def admin_url(self) -> str:
        """The admin URL, starting the embedded cluster first if it is not running yet."""
        if self.cluster is None:
            return self.external_url
        await self.ensure_started()
        return await asyncio.to_thread(self.cluster.admin_url)

    def _kept(self) -> bool:
        assert self.child is not None
        return self.keeper.kept(self.child) and (self.front is None or self.keeper.kept(self.front))

    async def ensure_started(self) -> None:
        """Initialise and start the cluster and its front (first pg add-on, or server start with pg add-ons);
        once they are kept, a call finds them running or has the keeper restart them now."""
        if self.cluster is None or self.child is None:
            return
        async with self._lock:
            fresh = not self._kept()
            first = not (self.cluster.data_dir / "PG_VERSION").exists()
            if self.front is not None and fresh:
                await asyncio.to_thread(self.front.prepare, self.cluster)
            await self.keeper.start(self.child)
            if self.front is not None:
                await self.keeper.start(self.front)
            if not fresh:
                return
            if first:
                self.say(f"initialised PostgreSQL in {self.cluster.data_dir} (port {self.cluster.port})")
            else:
                self.say(f"PostgreSQL is running on 127.0.0.1:{self.cluster.port}")
            if self.front is not None:
                self.say(f"PostgreSQL's TLS front (apps' DATABASE_URLs) listens on 127.0.0.1:{self.front.port}")

    def app_url(self, url: str) -> str:
        """A URL made from the admin URL's server, as apps get it: through the TLS front when there is one."""
        return self.front.public_url(url) if self.front is not None else url

    async def stop(self) -> None:
        async with self._lock:
            if self.front is not None:
                await self.keeper.stop(self.front)
            if self.child is None or not self.keeper.kept(self.child):
                return
            await self.keeper.stop(self.child)
        self.say("PostgreSQL stopped")
