"""hoist's AMQP add-ons (``rabbitmq-bigwig``, ``cloudamqp``, and hoist's own ``amqp``): a vhost each on one
RabbitMQ node, from Debian's ``rabbitmq-server`` package, which hoist starts, watches and stops itself.

The contract the platform and the server use (everything raises AmqpError, an AddonError whose message says
what went wrong and what to do next; a missing package names the ``apt-get install`` to run):

``server.RabbitNode(root: Path, bin_dir: Path)``  the node, a ``keeper.Daemon``: ``start()`` (idempotent;
    adopts a node a killed hoist left running; returns once AMQP accepts), ``stop()`` (SIGTERM, grace,
    SIGKILL, then its epmd), ``is_running()``, ``pid()``, ``check_installed()``, ``.ports`` (AMQP,
    distribution and epmd ports: chosen once, kept in ``node.json``), ``ctl()`` (a ``ctl.RabbitCtl``).
    Everything lives under ``root`` (``HOIST_HOME/rabbitmq``): config, mnesia, logs, pid file, and the
    node user's HOME with its Erlang cookie (0400). As root the node runs as the system user
    ``hoist_rabbitmq`` (``hoist.addons.sysuser``); it listens on 127.0.0.1 only (AMQP, Erlang
    distribution, epmd), with no plugins (no management API), and reads none of /etc/rabbitmq.
``ctl.RabbitCtl``  ``create(vhost, user, password)`` (one ``import_definitions`` through stdin: a vhost, a
    user with a salted SHA-256 hash, rights in that vhost only), ``delete(vhost, user)``, ``vhosts()``.
``config``  pure: ``NodePorts``, ``NodeFiles``, ``rabbitmq_conf``, ``node_env``, ``vhost_name``,
    ``build_url`` (``amqp://USER:PASSWORD@127.0.0.1:PORT/VHOST``), ``password_hash``, ``definitions``.
``provider.AmqpProvider(keeper, root, bin_dir, say)``: the ``hoist.addons.provider.Provider`` shape. The node
    is a ``keeper.Detached`` child started by the first add-on (or at server start when add-ons exist) and
    stopped with hoist or when the last add-on is destroyed. The password is never stored by hoist outside
    the app's config var; the add-on's row keeps its vhost, user and port.
"""
from __future__ import annotations

from hoist.addons.amqp.errors import AmqpError

__all__ = ["AmqpError"]
