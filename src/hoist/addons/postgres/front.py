"""The TLS front's life in the hoist server: its port (kept in front.json), its certificate from the
local CA, and the process (`python -m hoist.addons.postgres.tlsfront`), a kept unit of the keeper: under a
shim in its own session and cgroup, so it outlives the hoist control process and the next hoist adopts it
(while hoist restarts, apps' database connections go on)."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from hoist.addons.postgres.cluster import HOST, Cluster
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.urls import ConnInfo, parse_url, to_url
from hoist.contain.kept import Kept, KeptError, Place
from hoist.launch import module_argv
from hoist.procs import accepts, free_port
from hoist.tls.ca import LocalCA, write_private

NAMES = ("localhost", "127.0.0.1")
RENEW_BEFORE = dt.timedelta(days=30)
START_TIMEOUT_S = 10.0
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class PortPlan:
    front: int | None  # None: pick a free port now (and keep it)
    move_cluster: bool  # the front takes the cluster's old port: the cluster moves to a new one


def plan_ports(setting: int, saved: int | None, cluster_port: int | None) -> PortPlan:
    """Where the front listens. Upgrading from a hoist without it (no saved port, a cluster exists), the
    front takes the cluster's port so every DATABASE_URL already handed out keeps working, now with TLS."""
    if setting:
        return PortPlan(setting, cluster_port == setting)
    if saved:
        return PortPlan(saved, cluster_port == saved)
    if cluster_port is not None:
        return PortPlan(cluster_port, True)
    return PortPlan(None, False)


def needs_new_cert(cert: Path, now: dt.datetime, also: str = "") -> bool:
    """True if the certificate is missing, unreadable, expires within RENEW_BEFORE, or does not name `also`."""
    try:
        leaf = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError):
        return True
    if also:
        try:
            ips = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
                x509.IPAddress)
        except x509.ExtensionNotFound:
            return True
        if also not in {str(ip) for ip in ips}:
            return True
    return bool(leaf.not_valid_after_utc - now < RENEW_BEFORE)


class TlsFront:
    """The front of one cluster: `prepare` (ports, certificate), then a keeper's Child: `start`, `running`,
    `wait`, `stop`."""

    name = "PostgreSQL's TLS front"

    def __init__(self, home: Path, ca_dir: Path, port_setting: int = 0, say: Callable[[str], None] = print,
                 place: Place | None = None, also: str = "") -> None:
        self.home = home
        self.also = also  # a second address to listen on (HOIST_SWARM_HOST_ADDR: swarm dynos connect there)
        self.state_file = home / "front.json"
        self.cert_dir = home / "front-tls"
        self.ca = LocalCA(ca_dir)
        self.port_setting = port_setting
        self.say = say
        self.port: int | None = None
        self.upstream: Cluster | None = None  # the prepared cluster: the front relays to its port
        self.place = place or Place(home / "run")
        self._child: Kept | None = None

    def saved_port(self) -> int | None:
        try:
            return int(json.loads(self.state_file.read_text())["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def prepare(self, cluster: Cluster) -> None:
        """Settle both ports (moving the cluster off the front's port if needed) and the certificate."""
        initialised = (cluster.data_dir / "PG_VERSION").exists()
        old = cluster.port if initialised else None
        plan = plan_ports(self.port_setting, self.saved_port(), old)
        port = plan.front or free_port()
        if plan.move_cluster or not initialised:
            if cluster.is_running():
                cluster.stop()  # it listens on the port the front needs
            new = free_port()
            while new == port:
                new = free_port()
            Cluster(cluster.data_dir, port=new).ensure_initialised()  # initdb, or a new port in cluster.json
            if plan.move_cluster:
                self.say(f"PostgreSQL moved to 127.0.0.1:{new}; its old port {port} is now its TLS front, "
                         "so existing DATABASE_URLs keep working and can use SSL")
        saved = self.saved_port()
        if saved and saved != port:
            self.say(f"the PostgreSQL TLS front moved from port {saved} to {port} (HOIST_PG_PORT); add-ons "
                     f"whose URLs name port {saved} need `hoist pg:credentials:rotate NAME -a APP` for new URLs")
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(self.state_file, (json.dumps({"port": port}) + "\n").encode())
        self.port = port
        self.upstream = cluster
        self.ca.ensure()
        if needs_new_cert(self.cert_dir / "cert.pem", dt.datetime.now(dt.timezone.utc), self.also):
            self.ca.issue(NAMES + ((self.also,) if self.also else ()), self.cert_dir)

    def public_url(self, url: str) -> str:
        """`url` (host and port of the cluster) as apps get it: through the front."""
        if self.port is None:
            raise PostgresError("the PostgreSQL TLS front has no port yet; start PostgreSQL first")
        info = parse_url(url)
        return to_url(ConnInfo(info.user, info.password, HOST, self.port, info.database, info.query))

    @property
    def pid(self) -> int | None:
        proc = self._child.proc if self._child is not None else None
        return proc.pid if proc is not None and proc.returncode is None else None

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.running

    async def start(self, upstream_port: int | None = None) -> None:
        """Adopt the front a previous hoist left running in front of the same cluster, or start one in front of
        `upstream_port` (the prepared cluster's port) and wait until it accepts connections (a just-killed one
        may hold the port a moment)."""
        assert self.port is not None
        if upstream_port is None:
            assert self.upstream is not None, "prepare the front first"
            upstream_port = self.upstream.port
        port = self.port
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        first = True
        while True:
            self._child = Kept(
                self.name, "pgfront", module_argv("hoist.addons.postgres.tlsfront", "--listen", f"{HOST}:{port}",
                                                  *(["--listen", f"{self.also}:{port}"] if self.also else []),
                                                  "--upstream", f"{HOST}:{upstream_port}",
                                                  "--cert", str(self.cert_dir / "cert.pem"),
                                                  "--key", str(self.cert_dir / "key.pem")),
                self.place, ready=lambda: accepts(HOST, port), ready_timeout=max(deadline - loop.time(), 0.0),
                grace=STOP_GRACE_S)
            if first and await self._child.adopt():
                return
            first = False
            try:
                if await self._child.spawn():
                    return
            except KeptError as exc:
                raise PostgresError(str(exc)) from None
            if self._child.running:
                await self.stop()
                break
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.2)
        raise PostgresError(f"the PostgreSQL TLS front did not listen on {HOST}:{port} within "
                            f"{START_TIMEOUT_S:.0f} s (see its message above); free the port or set HOIST_PG_PORT")

    async def wait(self) -> str:
        assert self._child is not None
        return await self._child.wait()

    async def stop(self) -> None:
        if self._child is not None:
            await self._child.stop()

    def detach(self) -> None:
        """hoist hands over: the front keeps relaying, and the next hoist adopts it."""
        if self._child is not None:
            self._child.detach()
