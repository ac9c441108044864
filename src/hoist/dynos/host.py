"""Where dynos run, built once at start: hoist's cgroup tree (as root, where cgroups are mounted), the
firewall over it, and the scheduler that records, contains and starts every dyno. `hoist server` says at
start which of them it has, and what to do when one is missing."""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hoist.contain.cgroups import Limits as UnitLimits, Tree, describe, open_tree
from hoist.contain.kept import Place
from hoist.dynos.firewall import Firewall, start_firewall
from hoist.dynos.isolation import Isolation
from hoist.dynos.local import LocalScheduler
from hoist.dynos.process import read_records
from hoist.dynos.rendezvous import Rendezvous
from hoist.dynos.swarm.runs import ATTACH_WITHIN, Dialback
from hoist.dynos.swarm.scheduler import SwarmScheduler
from hoist.dynos.swarm.cluster import Cluster, SwarmError
from hoist.paths import Paths
from hoist.settings import Settings
from hoist.tls.ca import LocalCA

MB = 1024 * 1024
CPU_WEIGHT = 100  # every dyno the same share of CPU (cgroup v2's default weight; v1: 1024 shares)


@dataclass(frozen=True)
class DynoHost:
    tree: Tree | None  # None: dynos are process groups, not contained
    firewall: Firewall | None
    scheduler: LocalScheduler | SwarmScheduler
    place: Place  # where the router and the TLS front live (records, shim sockets, cgroups)


def contain(paths: Paths, isolation: Isolation | None, say: Callable[[str], None]) -> Tree | None:
    """hoist's cgroup tree, or None; says which."""
    if isolation is None:
        say("dynos are NOT contained (cgroups need root): a dyno is its process group, and processes it starts "
            "in a new session escape it; run hoist as root to contain each dyno in its own cgroup")
        return None
    tree, why = open_tree(paths.home)
    if tree is None:
        say(f"dynos are NOT contained: {why}. A dyno is its process group (setsid children escape it, memory is "
            "summed over /proc); mount cgroup2 (`mount -t cgroup2 none /sys/fs/cgroup`) and restart hoist")
        return None
    say(f"dynos are contained, one cgroup each: {describe(tree)}")
    return tree


def _group(isolation: Isolation) -> Callable[[str], str]:
    """An app's cgroup is named by its user's uid (`uid.N`: no app name has a dot): a rename keeps it, and a
    new app of a destroyed one's name, which gets a fresh uid, never shares it."""
    def group(app: str) -> str:
        uid = isolation.recorded_uid(app)
        return f"uid.{uid}" if uid is not None else app
    return group


def _app_cgroup(tree: Tree, group: Callable[[str], str]) -> Callable[[str], str | None]:
    def made(app: str) -> str | None:
        tree.unit("apps", group(app)).create()
        named = tree.nft_path("apps", group(app))
        return named[0] if named else None
    return made


def build_host(settings: Settings, paths: Paths, isolation: Isolation | None, apps: Iterable[str],
               say: Callable[[str], None]) -> DynoHost:
    """The tree, the firewall (guarding `apps` and the ports of the dynos recorded as running) and the
    scheduler. Raises FirewallError when HOIST_FIREWALL=on and the firewall cannot start."""
    cluster = swarm_cluster(settings)
    dial = swarm_dialback(settings, paths) if cluster is not None else None  # before anything else starts
    tree = contain(paths, isolation, say)
    run_dir = paths.run_dir / "dynos"
    run_dir.mkdir(parents=True, exist_ok=True)
    named = tree.nft_path("apps", "_") if tree is not None else None
    group = _group(isolation) if isolation is not None else (lambda app: app)
    recorded = {r.port: (r.app, r.id) for r in read_records(run_dir) if r.port and r.app}
    firewall = start_firewall(settings.firewall, paths.home,
                              (lambda app: isolation.run_as(app).uid) if isolation is not None else None, say,
                              app_cgroup=_app_cgroup(tree, group) if tree is not None and named else None,
                              level=named[1] if named else None, apps=apps, ports=recorded)
    fw = firewall

    async def guard(app: str) -> None:
        if fw is not None:
            await fw.guard(app, None, "")

    async def unguard(app: str) -> None:
        if fw is not None:
            await fw.forget_app(app)

    limits = UnitLimits(memory_bytes=int(settings.dyno_memory_mb * settings.memory_kill_factor * MB),
                        pids=settings.dyno_nproc, cpu_weight=CPU_WEIGHT)
    scheduler = LocalScheduler(run_dir, run_as=isolation.run_as if isolation is not None else None,
                               limits=isolation.limits if isolation is not None else None, tree=tree,
                               unit_limits=limits, guard=guard, unguard=unguard, log_rate=settings.log_rate,
                               group=group, renamed=firewall.rename if firewall is not None else None)
    (paths.run_dir / "kept").mkdir(exist_ok=True)
    chosen: LocalScheduler | SwarmScheduler = scheduler
    if cluster is not None and dial is not None:
        say(f"dynos run on the Docker Swarm at {os.environ.get('DOCKER_HOST', 'the default engine')}, images in "
            f"{settings.swarm_registry}; one-off dynos too (they attach back to {dial.host_addr}:"
            f"{dial.listener.port}); add-ons listen on {dial.host_addr} as well as 127.0.0.1")
        chosen = SwarmScheduler(cluster, settings.swarm_registry, scheduler, dial, meter_every=settings.memory_interval,
                                memory=(int(settings.dyno_memory_mb * MB), limits.memory_bytes or 0))
    return DynoHost(tree, firewall, chosen, Place(paths.run_dir / "kept", tree))


def host_addr_problem(addr: str) -> str:
    """Why HOIST_SWARM_HOST_ADDR cannot be where nodes reach this host's add-ons and one-off attach, or "".
    Pure. It must be one private address: never everything (0.0.0.0), loopback (nodes are elsewhere) or
    a public address (the add-on servers would be reachable from outside the cluster's network)."""
    if not addr:
        return ("HOIST_SCHEDULER=swarm needs HOIST_SWARM_HOST_ADDR: this manager's private address that every node "
                "reaches (add-ons and one-off dynos use it); `scripts/local-swarm up 3` prints it")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return f"HOIST_SWARM_HOST_ADDR={addr!r} is not an IP address: set this manager's private address the nodes reach"
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast or ip.is_global:
        return (f"HOIST_SWARM_HOST_ADDR={addr} cannot be used: add-on servers listen there, so it must be this "
                "manager's private address on the cluster's network (e.g. 10.0.0.1 on a VPN or private LAN), not "
                "a public, loopback or wildcard address")
    return ""


def swarm_dialback(settings: Settings, paths: Paths) -> Dialback:
    """The listener one-off dynos' swarm tasks call back to, on HOIST_SWARM_HOST_ADDR (HostError if it cannot)."""
    addr = settings.swarm_host_addr
    listener = Rendezvous(LocalCA(paths.tls), paths.tls / "dialback", host=addr, port=settings.swarm_attach_port,
                          ttl=ATTACH_WITHIN + 30, names=(addr,))
    try:
        return Dialback.start(listener, addr)
    except OSError as exc:
        raise HostError(f"one-off dynos' dial-back listener cannot listen on {addr}:{settings.swarm_attach_port}: "
                        f"{exc}; is HOIST_SWARM_HOST_ADDR an address of this machine (and the port free)?") from None


class HostError(Exception):
    """The chosen place for dynos cannot be used; the message says what to set."""


def swarm_cluster(settings: Settings) -> Cluster | None:
    """The swarm manager when HOIST_SCHEDULER=swarm (checked now: a clear error before anything starts)."""
    if settings.scheduler == "local":
        return None
    if settings.scheduler != "swarm":
        raise HostError(f"HOIST_SCHEDULER={settings.scheduler!r} is not a scheduler: use local (the default) or swarm")
    if not settings.swarm_registry:
        raise HostError("HOIST_SCHEDULER=swarm needs HOIST_SWARM_REGISTRY (HOST:PORT of the registry the nodes "
                        "pull from) and DOCKER_HOST/DOCKER_CONFIG of a manager: `scripts/local-swarm up 3` prints them")
    problem = host_addr_problem(settings.swarm_host_addr)
    if problem:
        raise HostError(problem)
    cluster = Cluster()
    try:
        cluster.check()
    except SwarmError as exc:
        raise HostError(str(exc)) from None
    return cluster
