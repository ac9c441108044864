"""The RabbitMQ node's pure pieces: config, environment, names, URL, password hash, definitions."""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from hoist.addons.amqp.config import (NodeFiles, NodePorts, build_url, definitions, node_env, password_hash,
                                      rabbitmq_conf, vhost_name, with_swarm_listener)
from hoist.addons.amqp.errors import AmqpError

PORTS = NodePorts(amqp=40001, dist=40002, epmd=40003)


def test_conf_listens_on_loopback_only_with_an_unannounced_default_user() -> None:
    conf = rabbitmq_conf(PORTS, "hoist-admin", "s3cret")
    assert "listeners.tcp.default = 127.0.0.1:40001\n" in conf
    assert "distribution.listener.interface = 127.0.0.1\n" in conf
    assert "default_user = hoist-admin\n" in conf and "guest" not in conf
    with pytest.raises(AmqpError):
        rabbitmq_conf(PORTS, "admin", "pw\nlisteners.tcp.2 = 0.0.0.0:5672")


def test_the_swarm_listener_is_added_changed_and_removed_alone() -> None:
    conf = rabbitmq_conf(PORTS, "hoist-admin", "s3cret")
    swarm = with_swarm_listener(conf, PORTS, "10.227.0.1")
    assert "listeners.tcp.swarm = 10.227.0.1:40001\n" in swarm and "listeners.tcp.default = 127.0.0.1:40001\n" in swarm
    assert set(swarm.splitlines()) - set(conf.splitlines()) == {"listeners.tcp.swarm = 10.227.0.1:40001"}
    moved = with_swarm_listener(swarm, PORTS, "10.9.0.1")
    assert "10.227.0.1" not in moved and moved.count("listeners.tcp.swarm") == 1
    assert with_swarm_listener(moved, PORTS, "") == conf  # back to loopback only


def test_env_points_every_path_under_the_root_and_its_own_epmd() -> None:
    files = NodeFiles(Path("/h/rabbitmq"))
    env = node_env(files, PORTS, {"PATH": "/usr/bin", "RABBITMQ_NODENAME": "ignored"})
    assert env["HOME"] == "/h/rabbitmq/home" and env["RABBITMQ_MNESIA_BASE"] == "/h/rabbitmq/mnesia"
    assert env["RABBITMQ_LOG_BASE"] == "/h/rabbitmq/log" and env["RABBITMQ_CONFIG_FILE"] == "/h/rabbitmq/rabbitmq.conf"
    assert env["RABBITMQ_CONF_ENV_FILE"] == "/h/rabbitmq/rabbitmq-env.conf"  # not /etc/rabbitmq's
    assert env["ERL_EPMD_PORT"] == "40003" and env["ERL_EPMD_ADDRESS"] == "127.0.0.1"
    assert env["RABBITMQ_NODE_PORT"] == "40001" and env["RABBITMQ_DIST_PORT"] == "40002"
    assert env["RABBITMQ_NODENAME"] == "hoist@localhost" and env["PATH"] == "/usr/bin"
    assert files.cookie == Path("/h/rabbitmq/home/.erlang.cookie")


def test_ports_round_trip_and_a_broken_file_says_what_to_do() -> None:
    assert NodePorts.parse(PORTS.dump()) == PORTS
    with pytest.raises(AmqpError, match="delete it"):
        NodePorts.parse("{\"amqp\": 1}")


def test_url_names_user_password_port_and_vhost() -> None:
    assert build_url("u", "p", 5672, "rabbitmq-bigwig-deep-12345") == \
        "amqp://u:p@127.0.0.1:5672/rabbitmq-bigwig-deep-12345"
    assert build_url("u", "p/w", 1, "/").endswith(":p%2Fw@127.0.0.1:1/%2F")
    assert vhost_name("cloudamqp-flat-10001") == "cloudamqp-flat-10001"
    for bad in ("", "UPPER", "a/b", "-lead", "x" * 80):
        with pytest.raises(AmqpError):
            vhost_name(bad)


def test_password_hash_is_rabbits_salted_sha256_and_definitions_scope_the_user_to_its_vhost() -> None:
    hashed = password_hash("secret", b"\x01\x02\x03\x04")
    raw = base64.b64decode(hashed)
    assert raw[:4] == b"\x01\x02\x03\x04" and raw[4:] == hashlib.sha256(b"\x01\x02\x03\x04secret").digest()
    with pytest.raises(AmqpError):
        password_hash("secret", b"\x01")
    defs = json.loads(definitions("vh", "us", hashed))
    assert defs["vhosts"] == [{"name": "vh"}]
    assert defs["users"][0]["name"] == "us" and "password" not in defs["users"][0]
    assert defs["permissions"] == [{"user": "us", "vhost": "vh", "configure": ".*", "write": ".*", "read": ".*"}]
