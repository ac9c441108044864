"""The AMQP provider (rabbitmq-bigwig, cloudamqp, amqp): one RabbitMQ node for the whole hoist, a child of
the keeper started by the first add-on, and one vhost + one user + a random password per add-on."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from hoist.addons.amqp.config import build_url, vhost_name
from hoist.addons.amqp.errors import AmqpError
from hoist.addons.amqp.server import DEFAULT_BIN, RabbitNode
from hoist.addons.errors import AddonError
from hoist.addons.provider import Provisioned
from hoist.keeper import Detached, Keeper
from hoist.procs import random_password
from hoist.state.addons import Addon


class AmqpProvider:
    """Every AMQP service: a vhost of its own on hoist's RabbitMQ node for every add-on."""

    def __init__(self, keeper: Keeper, root: Path, bin_dir: Path = DEFAULT_BIN,
                 say: Callable[[str], None] = print, also: str = "") -> None:
        self.keeper = keeper
        self.node = RabbitNode(root, bin_dir, also=also)
        self.child: Detached[RabbitNode] = Detached("RabbitMQ", self.node)
        self.say = say
        self.vhosts: set[str] = set()  # the add-ons the node serves: with none left it is stopped
        self._lock = asyncio.Lock()  # one first start, however many add-ons are created at once

    async def _node_up(self, *, retry: bool = False) -> None:
        async with self._lock:
            await self.keeper.start(self.child, retry=retry)

    async def start(self, addons: list[Addon]) -> None:
        """Server start: the node, if any add-on needs it; one that does not start is reported, tried again."""
        self.vhosts = {str(a.provider.get("vhost")) for a in addons if a.provider.get("vhost")}
        if not self.vhosts:
            return
        try:
            await self._node_up(retry=True)
        except AddonError as exc:
            self.say(f"RabbitMQ did not start: {exc}")

    async def provision(self, addon: Addon, directory: Path) -> Provisioned:
        """A vhost and a user named after the add-on, with a random password; the URL names them."""
        self.node.check_installed()
        vhost = vhost_name(addon.name)
        await self._node_up()
        password = random_password()
        await asyncio.to_thread(self.node.ctl().create, vhost, vhost, password)
        self.vhosts.add(vhost)
        port = self.node.ports.amqp
        return Provisioned(build_url(vhost, password, port, vhost), {"vhost": vhost, "user": vhost, "port": port})

    async def deprovision(self, addon: Addon) -> None:
        """The vhost (its queues and messages) and the user go; the last add-on gone stops the node."""
        vhost = str(addon.provider.get("vhost") or "")
        if not vhost:
            return  # it never got one (provisioning failed)
        try:
            await self._node_up()
        except AmqpError as exc:
            raise AmqpError(f"cannot remove vhost {vhost}: {exc}") from None
        await asyncio.to_thread(self.node.ctl().delete, vhost, str(addon.provider.get("user") or vhost))
        self.vhosts.discard(vhost)
        if not self.vhosts:
            await self.stop()

    async def stop(self) -> None:
        if self.keeper.kept(self.child):
            await self.keeper.stop(self.child)
