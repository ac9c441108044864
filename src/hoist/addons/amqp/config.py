"""Pure pieces of hoist's RabbitMQ node: its ports and name, its config file, the environment its scripts
read, the names and URL of one add-on's vhost, and the definitions that create it (no I/O here)."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

from hoist.addons.amqp.errors import AmqpError
from hoist.procs import LOOPBACK

NODE_NAME = "hoist@localhost"
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
_CONF_VALUE_RE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class NodePorts:
    """Chosen once and kept in node.json: apps' URLs name the AMQP port, so it never changes."""

    amqp: int
    dist: int
    epmd: int

    def dump(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def parse(cls, text: str) -> NodePorts:
        try:
            raw = json.loads(text)
            return cls(int(raw["amqp"]), int(raw["dist"]), int(raw["epmd"]))
        except (ValueError, KeyError, TypeError):
            raise AmqpError("node.json is not valid; delete it and restart hoist (the node gets new ports, "
                            "and RabbitMQ add-ons must then be created again)") from None


@dataclass(frozen=True)
class NodeFiles:
    """Where the node keeps everything, under one directory of hoist's home."""

    root: Path

    @property
    def home(self) -> Path:
        """The node user's HOME: the Erlang cookie lives here (0400)."""
        return self.root / "home"

    @property
    def cookie(self) -> Path:
        return self.home / ".erlang.cookie"

    @property
    def conf(self) -> Path:
        return self.root / "rabbitmq.conf"

    @property
    def env_conf(self) -> Path:
        """An empty rabbitmq-env.conf: the machine's /etc/rabbitmq/rabbitmq-env.conf is not ours to read."""
        return self.root / "rabbitmq-env.conf"

    @property
    def plugins(self) -> Path:
        return self.root / "enabled_plugins"

    @property
    def mnesia(self) -> Path:
        return self.root / "mnesia"

    @property
    def logs(self) -> Path:
        return self.root / "log"

    @property
    def pidfile(self) -> Path:
        return self.root / "node.pid"

    @property
    def ports(self) -> Path:
        return self.root / "node.json"

    @property
    def log(self) -> Path:
        return self.logs / f"{NODE_NAME}.log"


def rabbitmq_conf(ports: NodePorts, admin_user: str, admin_password: str) -> str:
    """The node's config: AMQP and Erlang distribution on 127.0.0.1 only; a default user nobody is told
    about (RabbitMQ insists on one; otherwise it would be guest/guest on vhost /)."""
    for value in (admin_user, admin_password):
        if not _CONF_VALUE_RE.match(value):
            raise AmqpError("the node's admin user and password must be letters, digits, '-' or '_'")
    return (
        f"listeners.tcp.default = {LOOPBACK}:{int(ports.amqp)}\n"
        f"distribution.listener.interface = {LOOPBACK}\n"
        f"default_user = {admin_user}\n"
        f"default_pass = {admin_password}\n"
        "default_user_tags.administrator = false\n"
        "log.console = false\n"
        "log.file.level = warning\n"
    )


SWARM_LISTENER = "listeners.tcp.swarm"


def with_swarm_listener(conf: str, ports: NodePorts, also: str) -> str:
    """The config with AMQP also on `also` (HOIST_SWARM_HOST_ADDR, where swarm dynos connect), or without
    that listener when `also` is empty. Only that line changes: the rest (the default user) is the node's."""
    lines = [ln for ln in conf.splitlines() if not ln.startswith(SWARM_LISTENER + " ")]
    if also:
        lines.insert(1, f"{SWARM_LISTENER} = {also}:{int(ports.amqp)}")
    return "\n".join(lines) + "\n"


# No plugins: the management plugin (an HTTP API any local app could reach) stays off.
ENABLED_PLUGINS = "[].\n"


def node_env(files: NodeFiles, ports: NodePorts, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment rabbitmq-server and rabbitmqctl run with: everything under `files.root`, our own
    epmd port, and none of the machine's RabbitMQ settings."""
    env = {"PATH": (base or os.environ).get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C.UTF-8"}
    env.update({
        "HOME": str(files.home),
        "RABBITMQ_NODENAME": NODE_NAME,
        "RABBITMQ_NODE_IP_ADDRESS": LOOPBACK,
        "RABBITMQ_NODE_PORT": str(ports.amqp),
        "RABBITMQ_DIST_PORT": str(ports.dist),
        "ERL_EPMD_PORT": str(ports.epmd),
        "ERL_EPMD_ADDRESS": LOOPBACK,
        "RABBITMQ_CONF_ENV_FILE": str(files.env_conf),
        "RABBITMQ_CONFIG_FILE": str(files.conf),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(files.plugins),
        "RABBITMQ_MNESIA_BASE": str(files.mnesia),
        "RABBITMQ_LOG_BASE": str(files.logs),
        "RABBITMQ_PID_FILE": str(files.pidfile),
        "ERL_CRASH_DUMP": str(files.logs / "erl_crash.dump"),
        # rabbitmqctl's own short-lived Erlang node listens too: on loopback only.
        "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    })
    return env


def vhost_name(addon_name: str) -> str:
    """An add-on's vhost and user are both named after it (``rabbitmq-bigwig-curved-12345``)."""
    if not isinstance(addon_name, str) or not _NAME_RE.match(addon_name):
        raise AmqpError(f"{addon_name!r} cannot name a RabbitMQ vhost; use lower-case letters, digits and '-'")
    return addon_name


def build_url(user: str, password: str, port: int, vhost: str) -> str:
    """``amqp://USER:PASSWORD@127.0.0.1:PORT/VHOST`` (the vhost percent-encoded, '/' included)."""
    return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@{LOOPBACK}:{int(port)}/{quote(vhost, safe='')}"


def password_hash(password: str, salt: bytes) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), salt 4 bytes."""
    if len(salt) != 4:
        raise AmqpError("a RabbitMQ password salt is 4 bytes")
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(vhost: str, user: str, hashed: str) -> str:
    """Definitions JSON creating one vhost and one user allowed everything in it and nothing elsewhere
    (imported through rabbitmqctl's stdin: the password is never in argv)."""
    return json.dumps({
        "vhosts": [{"name": vhost}],
        "users": [{"name": user, "password_hash": hashed, "hashing_algorithm": "rabbit_password_hashing_sha256",
                   "tags": []}],
        "permissions": [{"user": user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}],
    })
