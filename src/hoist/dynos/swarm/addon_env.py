"""Add-on URLs as a dyno on another node must see them. Pure.

hoist's add-on servers (Postgres' TLS front, Redis, RabbitMQ) listen on 127.0.0.1 and, with the swarm
scheduler, also on HOIST_SWARM_HOST_ADDR (the manager's address the nodes reach). Their URLs in the
config name 127.0.0.1, which inside a swarm task is the task itself: so the environment a swarm dyno
gets names the host address instead. Only values that are URLs of an add-on scheme (postgres, redis,
amqp and their TLS variants) with a loopback host are rewritten; the config itself, local dynos and
every other value stay as they are. A rewrite opens nothing: a URL names an address, and only the
add-on servers listen on the host address."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = frozenset({"postgres", "postgresql", "redis", "rediss", "amqp", "amqps"})
LOOPBACK = frozenset({"127.0.0.1", "localhost"})


def for_node(value: str, host_addr: str) -> str:
    """`value` with a loopback host replaced by `host_addr` if it is an add-on URL; else unchanged."""
    if "://" not in value or not host_addr:
        return value
    try:
        parts = urlsplit(value)
        host, port = parts.hostname, parts.port
    except ValueError:
        return value
    if parts.scheme.lower() not in SCHEMES or host not in LOOPBACK:
        return value
    auth, _, _ = parts.netloc.rpartition("@")
    netloc = (f"{auth}@" if "@" in parts.netloc else "") + host_addr + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def node_env(env: dict[str, str], host_addr: str) -> dict[str, str]:
    """A swarm dyno's environment: every add-on URL names `host_addr` instead of loopback."""
    return {k: for_node(v, host_addr) for k, v in env.items()}
