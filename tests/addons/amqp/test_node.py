"""hoist's RabbitMQ node and the AMQP provider, for real: Debian's rabbitmq-server started by hoist, a vhost
per add-on, checked with pika (skipped when the package is not installed)."""
from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from hoist.addons.amqp.config import build_url
from hoist.addons.amqp.errors import AmqpError
from hoist.addons.amqp.provider import AmqpProvider
from hoist.addons.amqp.server import DEFAULT_BIN, USER, RabbitNode
from hoist.keeper import Keeper
from hoist.state.addons import Addon

pika = pytest.importorskip("pika")
pytestmark = pytest.mark.skipif(not (DEFAULT_BIN / "rabbitmq-server").exists(),
                                reason="rabbitmq-server is not installed (apt-get install rabbitmq-server)")


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hoist-amqp-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def node(root: Path) -> Iterator[RabbitNode]:
    n = RabbitNode(root / "rabbitmq")
    n.start()
    yield n
    n.stop()
    assert not n.is_running()


def connect(url: str) -> object:
    return pika.BlockingConnection(pika.URLParameters(url + "?connection_attempts=1&socket_timeout=10"))


def test_one_vhost_per_addon_and_b_cannot_open_as_vhost(node: RabbitNode) -> None:
    ctl = node.ctl()
    ctl.create("app-a-10001", "app-a-10001", "passwordA")
    ctl.create("app-b-10002", "app-b-10002", "passwordB")
    port = node.ports.amqp
    a = connect(build_url("app-a-10001", "passwordA", port, "app-a-10001"))
    channel = a.channel()  # type: ignore[attr-defined]
    channel.queue_declare("tasks")
    channel.basic_publish("", "tasks", b"hello")
    assert channel.basic_get("tasks", auto_ack=True)[2] == b"hello"
    a.close()  # type: ignore[attr-defined]
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError, match="access to vhost 'app-a-10001' refused"):
        connect(build_url("app-b-10002", "passwordB", port, "app-a-10001"))
    for user, password in (("app-b-10002", "passwordA"), ("guest", "guest"), ("hoist-admin", "")):
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            connect(build_url(user, password, port, "%2F"))

    ctl.delete("app-a-10001", "app-a-10001")
    ctl.delete("app-a-10001", "app-a-10001")  # already gone: fine
    assert "app-a-10001" not in ctl.vhosts() and "app-b-10002" in ctl.vhosts()
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(build_url("app-a-10001", "passwordA", port, "app-a-10001"))


def test_the_node_listens_on_loopback_only_with_no_plugins_and_a_private_cookie(node: RabbitNode) -> None:
    pid = node.pid()
    assert pid is not None
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    assert listening and all(ip == "127.0.0.1" for ip, _ in listening), listening
    assert (("127.0.0.1", node.ports.amqp) in listening and ("127.0.0.1", node.ports.dist) in listening)
    assert not any(port in (15672, 15692) for _, port in listening)  # no management or prometheus plugin
    cookie = node.files.cookie.stat()
    assert stat.S_IMODE(cookie.st_mode) == 0o400
    if os.geteuid() == 0:
        assert pwd.getpwuid(cookie.st_uid).pw_name == USER == psutil.Process(pid).username()


def test_a_second_start_adopts_the_running_node(node: RabbitNode) -> None:
    pid = node.pid()
    again = RabbitNode(node.files.root)
    started = time.monotonic()
    again.start()
    assert again.pid() == pid and time.monotonic() - started < 2 and again.ports == node.ports


def addon(name: str, provider: dict[str, object] | None = None) -> Addon:
    return Addon("id-" + name, "app-id", name, "cloudamqp", "lemur", "provisioning", ["CLOUDAMQP_URL"],
                 provider or {}, "", "")


def test_provider_starts_the_node_with_the_first_addon_restarts_it_and_stops_it_with_the_last(root: Path) -> None:
    async def body() -> None:
        said: list[str] = []
        keeper = Keeper(said.append)
        provider = AmqpProvider(keeper, root / "provider-node", say=said.append)
        await provider.start([])
        assert not provider.node.is_running()
        first = await provider.provision(addon("cloudamqp-deep-10001"), root)
        second = await provider.provision(addon("cloudamqp-deep-10002"), root)
        assert first.provider == {"vhost": "cloudamqp-deep-10001", "user": "cloudamqp-deep-10001",
                                  "port": provider.node.ports.amqp}
        assert "password" not in str(first.provider)
        await asyncio.to_thread(lambda: connect(first.url).close())  # type: ignore[attr-defined]

        os.kill(provider.node.pid() or 0, signal.SIGKILL)  # the keeper brings it back
        deadline = time.monotonic() + 90
        while "RabbitMQ restarted" not in said:
            assert time.monotonic() < deadline, said
            await asyncio.sleep(0.2)
        await asyncio.to_thread(lambda: connect(second.url).close())  # type: ignore[attr-defined]

        await provider.deprovision(addon("cloudamqp-deep-10001", first.provider))
        assert provider.node.is_running()
        await provider.deprovision(addon("cloudamqp-deep-10002", second.provider))
        assert not provider.node.is_running() and not keeper.kept(provider.child)
    asyncio.run(asyncio.wait_for(body(), 300))


def test_a_missing_package_names_the_apt_get_install_to_run(root: Path) -> None:
    async def body() -> None:
        provider = AmqpProvider(Keeper(), root / "nowhere", Path("/nonexistent/rabbitmq/bin"))
        with pytest.raises(AmqpError, match=r"apt-get install -y rabbitmq-server"):
            await provider.provision(addon("cloudamqp-flat-10003"), root)
        assert not (root / "nowhere").exists()
    asyncio.run(body())
