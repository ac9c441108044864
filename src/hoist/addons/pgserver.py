"""The PostgreSQL server hoist provisions on: its own cluster (started on first use, watched,
restarted after a crash) or an existing server named by HOIST_POSTGRES_URL."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from hoist.addons.postgres.cluster import Cluster
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.front import TlsFront

WATCH_INTERVAL_S = 2.0


class PgServer:
    def __init__(self, data_dir: Path, external_url: str = "", say: Callable[[str], None] = print,
                 front: TlsFront | None = None) -> None:
        self.cluster = None if external_url else Cluster(data_dir)
        # Apps reach the embedded cluster through its TLS front; hoist's own admin connections go direct.
        self.front = None if external_url else front
        self.external_url = external_url
        self.say = say
        self._started = False
        self._lock = asyncio.Lock()
        self._closing = False

    @property
    def embedded(self) -> bool:
        return self.cluster is not None

    async def admin_url(self) -> str:
        """The admin URL, starting the embedded cluster first if it is not running yet."""
        if self.cluster is None:
            return self.external_url
        await self.ensure_started()
        return await asyncio.to_thread(self.cluster.admin_url)

    async def ensure_started(self) -> None:
        """Initialise and start the cluster (first pg add-on, or server start with pg add-ons)."""
        if self.cluster is None:
            return
        async with self._lock:
            if self._started and self.cluster.is_running():
                return
            first = not (self.cluster.data_dir / "PG_VERSION").exists()
            if self.front is not None and not self._started:
                await asyncio.to_thread(self.front.prepare, self.cluster)
            await asyncio.to_thread(self.cluster.start)
            if self.front is not None and not self.front.running:
                await self.front.start(self.cluster.port)
            self._started = True
            if first:
                self.say(f"initialised PostgreSQL in {self.cluster.data_dir} (port {self.cluster.port})")
            else:
                self.say(f"PostgreSQL is running on 127.0.0.1:{self.cluster.port}")
            if self.front is not None:
                self.say(f"PostgreSQL's TLS front (apps' DATABASE_URLs) listens on 127.0.0.1:{self.front.port}")

    def app_url(self, url: str) -> str:
        """A URL made from the admin URL's server, as apps get it: through the TLS front when there is one."""
        return self.front.public_url(url) if self.front is not None else url

    async def watch(self) -> None:
        """Restart the cluster if it dies (kill -9, OOM); checked every couple of seconds."""
        while not self._closing:
            await asyncio.sleep(WATCH_INTERVAL_S)
            if self.cluster is None or not self._started or self._closing:
                continue
            if self.front is not None and not self.front.running:
                await self._restart_front()
            if await asyncio.to_thread(self.cluster.is_running):
                continue
            self.say("PostgreSQL is not running (it exited or was killed); restarting it")
            try:
                async with self._lock:
                    if not self._closing:
                        await asyncio.to_thread(self.cluster.start)
                self.say("PostgreSQL restarted")
            except PostgresError as exc:
                self.say(f"PostgreSQL did not restart: {exc}; trying again shortly")

    async def _restart_front(self) -> None:
        assert self.front is not None and self.cluster is not None
        self.say("PostgreSQL's TLS front is not running (it exited or was killed); restarting it")
        try:
            async with self._lock:
                if not self._closing:
                    await self.front.start(self.cluster.port)
            self.say("PostgreSQL's TLS front restarted")
        except PostgresError as exc:
            self.say(f"PostgreSQL's TLS front did not restart: {exc}; trying again shortly")

    async def stop(self) -> None:
        self._closing = True
        if self.front is not None:
            await self.front.stop()
        if self.cluster is None or not self._started:
            return
        async with self._lock:
            await asyncio.to_thread(self.cluster.stop)
        self.say("PostgreSQL stopped")
