"""The composition root: `hoist server` builds every piece complete and runs them
in one process tree — the control-plane API, dashboard and git receiver (in this
process), the supervisor and its dynos, the add-on servers, and the router (a
child process that reads the route table the platform publishes).

Every piece gets what it needs in its constructor, in the flow's order: the route
publisher, the supervisor (which hands it its view of web dynos), releases, the
add-ons (whose config changes are releases), the platform over them, then the
faces. Nothing is set on a piece after it is built."""
from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import uvicorn

from hoist import dashboard
from hoist.accounts.login import Logins
from hoist.accounts.ratelimit import RateLimiter
from hoist.accounts.throttle import LoginThrottle
from hoist.addons import plans
from hoist.addons.amqp.provider import AmqpProvider
from hoist.addons.postgres.front import TlsFront
from hoist.addons.postgres.provider import PostgresProvider
from hoist.addons.postgres.server import PgServer
from hoist.addons.redis.provider import RedisProvider
from hoist.addons.scheduler.provider import SchedulerProvider
from hoist.api.app import create_api
from hoist.api.context import Ctx
from hoist.contain.kept import Place
from hoist.dynos.firewall import FirewallError
from hoist.dynos.host import HostError, build_host
from hoist.dynos.isolation import Isolation, IsolationError, Limits, isolation_for
from hoist.dynos.oneoff import OneOffs
from hoist.dynos.pythons import (
    MirrorError,
    ensure_mirror,
    pyenv_roots,
    reachable_import_paths,
)
from hoist.dynos.rendezvous import Rendezvous
from hoist.dynos.supervisor import Supervisor
from hoist.git.receiver import PushTokens
from hoist.keeper import Keeper
from hoist.logs.drains import Drains, DrainSetupError
from hoist.logs.sessions import LogSessions
from hoist.logs.store import LogStore
from hoist.paths import Paths
from hoist.platform.acm import AcmeManager, AcmeStatus
from hoist.platform.addon_refs import AddonPlatform
from hoist.platform.addons import AddonManager
from hoist.platform import interrupted
from hoist.platform.background import Background
from hoist.platform.connected import Connections
from hoist.platform.control import Platform
from hoist.platform.pgbackups import Backups
from hoist.platform.pipeline import Pushes
from hoist.platform.publish import RoutePublisher
from hoist.platform.rename import Renames
from hoist.platform.setups import AppSetups
from hoist.platform.releases import Releases
from hoist.platform.schedule_runner import ScheduleRunner
from hoist.procs import write_private
from hoist.router.child import RouterChild
from hoist.router.wake import load_secret
from hoist.settings import Settings
from hoist.state import apps as apps_t
from hoist.state import users as users_t
from hoist.state.db import Database
from hoist.tls.acme import AcmeIssuer
from hoist.tls.ca import LocalCA

ADMIN_EMAIL = "admin@hoist.local"


class ServerError(Exception):
    """hoist server cannot start; the message says why and what to do."""


def say(message: str) -> None:
    print(f"hoist: {message}", flush=True)


def acquire_lock(paths: Paths) -> IO[str]:
    """Hold an exclusive lock on the home for as long as this server runs."""
    f = paths.lock.open("a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        f.seek(0)
        pid = f.read().strip() or "unknown"
        f.close()
        raise ServerError(f"another hoist server (pid {pid}) is already running with home {paths.home}. "
                          "Stop it first, or start this one with a different --home.") from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    return f


def ensure_admin(db: Database, paths: Paths) -> bool:
    """On first start create the admin user and write its token (mode 0600); return True if created."""
    if users_t.admin_user(db) is not None and paths.admin_token.exists():
        return False
    admin = users_t.admin_user(db) or users_t.create_user(db, ADMIN_EMAIL, is_admin=True)
    _, token = users_t.create_token(db, admin.id, "admin token written by hoist server")
    fd = os.open(paths.admin_token, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.chmod(paths.admin_token, 0o600)
    return True


def check_port_free(host: str, port: int, how: str = "--port N (or HOIST_PORT=N)") -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            raise ServerError(f"port {port} on {host} is already in use. Stop what uses it, or start hoist "
                              f"with {how}.") from None


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: hoist's loop owns SIGINT/SIGTERM and stops every piece."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_addons(settings: Settings, paths: Paths, platform: AddonPlatform, keeper: Keeper,
                 place: Place) -> AddonManager:
    """The add-on providers and their servers (children of the keeper), and the platform's side of them."""
    also = settings.swarm_host_addr if settings.scheduler == "swarm" else ""  # swarm dynos reach add-ons there too
    front = TlsFront(paths.postgres, paths.tls, settings.pg_port, say, place, also=also)
    pg = PostgresProvider(PgServer(keeper, paths.postgres / "data", settings.postgres_url, say, front), say)
    amqp = AmqpProvider(keeper, paths.rabbitmq, Path(settings.rabbitmq_bin), say, also=also)
    return AddonManager(platform, pg, Backups(platform, pg, say), {plans.REDIS: RedisProvider(keeper, say, also=also),
                                                                   plans.AMQP: amqp, plans.SCHEDULER: SchedulerProvider()},
                        settings.scheduler_tick, say)


async def setup_isolation(settings: Settings, paths: Paths, db: Database) -> Isolation | None:
    """As root: per-app users, a locked-down home, and interpreters app users can run."""
    isolation = isolation_for(paths, Limits(settings.dyno_nofile, settings.dyno_nproc, settings.dyno_rlimit_data_mb),
                              db)
    if isolation is None:
        return None
    try:
        isolation.check_reachable()
    except IsolationError as exc:
        raise ServerError(str(exc)) from None
    isolation.lock_down_home()
    try:
        mirrored = await asyncio.to_thread(ensure_mirror, pyenv_roots(), paths.pythons)
    except MirrorError as exc:
        raise ServerError(str(exc)) from None
    try:
        # Builds run hoist's builder as the app's user: its code must be reachable (copied if not).
        await asyncio.to_thread(reachable_import_paths, paths.pythons)
    except MirrorError as exc:
        raise ServerError(str(exc)) from None
    say("apps are isolated: each runs as its own system user (hoist-APP), with rlimits per dyno process"
        + (f"; {len(mirrored)} pyenv interpreter(s) made runnable for them under {paths.pythons}" if mirrored else ""))
    return isolation


def internal_socket(paths: Paths) -> socket.socket:
    """The control plane's private address: a Unix socket in the root-only run directory. Only hoist's own
    processes (the router, the git hook) can connect; a dyno cannot, whatever port it tries."""
    path = paths.internal_api
    if len(str(path).encode()) >= 100:
        raise ServerError(f"{path} is too long for a Unix socket path; start hoist with a shorter --home")
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


async def serve(settings: Settings) -> None:
    # ----- the ground: the home, its lock and ports, the database, the log store -----
    paths = Paths(settings.home, Path(settings.pythons) if settings.pythons else None)
    paths.home.mkdir(parents=True, exist_ok=True)
    # As root, others may pass through (never list): a PostgreSQL that outlived the last hoist reaches its data.
    os.chmod(paths.home, 0o711 if os.geteuid() == 0 else 0o700)
    lock = acquire_lock(paths)
    paths.run_dir.mkdir(exist_ok=True)
    os.chmod(paths.run_dir, 0o700)
    # From now on SIGINT/SIGTERM stop everything and SIGUSR2/SIGHUP hand over (the apps keep running), even
    # while starting: hoist never dies halfway, leaving children it would not know.
    loop = asyncio.get_running_loop()
    stop, handover = asyncio.Event(), asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def hand_over() -> None:
        handover.set()
        stop.set()
    for sig in (signal.SIGUSR2, signal.SIGHUP):
        loop.add_signal_handler(sig, hand_over)
    if LocalCA(paths.tls).ensure():
        say(f"created a local certificate authority; trust {paths.tls / 'ca.pem'} to use https:// "
            "(`hoist certs` says how)")
    db = Database(paths.db)
    if ensure_admin(db, paths):
        say(f"created the admin user {ADMIN_EMAIL}; its API token is in {paths.admin_token} (mode 0600)")
    interrupted.settle(db, paths, say)  # what the last hoist left half done

    logs = LogStore(paths.logs, keep=settings.log_lines)
    try:
        drains = Drains(logs.emit, buffer_max=settings.drain_buffer, ca_file=settings.drain_ca_file or None)
    except DrainSetupError as exc:
        raise ServerError(str(exc)) from None
    logs.listen(drains.feed)  # every line also goes to the app's log drains (each buffered, never blocking)

    # ----- where dynos run: per-app users (as root), cgroups, guarded listeners, the scheduler -----
    isolation = await setup_isolation(settings, paths, db)
    try:
        host = build_host(settings, paths, isolation, [a.name for a in apps_t.list_apps(db)], say)
    except (FirewallError, HostError) as exc:
        raise ServerError(str(exc)) from None

    # ----- the platform over the stages, each piece complete when built -----
    # The control plane's private address, bound first: the route table and the git hook name it.
    sock = internal_socket(paths)
    routes = RoutePublisher(settings, paths, db, f"unix:{paths.internal_api}")
    supervisor = Supervisor(host.scheduler, logs, routes.publish,
                            boot_timeout=settings.boot_timeout, stop_grace=settings.stop_grace,
                            memory_quota_mb=settings.dyno_memory_mb, memory_kill_factor=settings.memory_kill_factor,
                            memory_interval=settings.memory_interval, sleep_after=settings.sleep_after * 60,
                            log_rate=settings.log_rate, ports=host.firewall)
    releases = Releases(paths, db, logs, supervisor, routes)
    keeper = Keeper(say)  # every long-lived child: the router, PostgreSQL and its TLS front, Redis, RabbitMQ
    addons = build_addons(settings, paths, releases, keeper, host.place)
    acme_status = AcmeStatus()
    secret = load_secret(paths.wake_secret)
    platform = Platform(settings, paths, db, logs, supervisor, routes=routes, releases=releases, addons=addons,
                        isolation=isolation, acme=acme_status, wake_secret=secret, drains=drains)
    platform.drains.start_all()  # the stored drains, before the apps' first lines

    # ----- the faces: the API and the dashboard on one private socket -----
    rendezvous = Rendezvous(LocalCA(paths.tls), paths.tls / "rendezvous", port=settings.rendezvous_port)
    rendezvous.start()
    oneoffs = OneOffs(host.scheduler, logs, rendezvous, time_limit=settings.run_time_limit,
                      stop_grace=settings.stop_grace)
    logins = Logins(db, LoginThrottle())
    log_sessions = LogSessions(settings.log_lines)
    pushes = Pushes(platform)
    connections = Connections(pushes, settings.repo_poll, say)  # deploys from connected repositories
    ctx = Ctx(platform=platform, pushes=pushes, setups=AppSetups(platform, pushes),
              renames=Renames(platform, pushes, oneoffs), oneoffs=oneoffs, logins=logins,
              log_sessions=log_sessions, push_tokens=PushTokens(), limiter=RateLimiter(settings.rate_limit),
              connections=connections)
    api = create_api(ctx, dashboard.routes(platform, logins, log_sessions, on_destroy=oneoffs.remove_app,
                                            build_running=pushes.running))
    config = uvicorn.Config(api, lifespan="off", log_level="warning", access_log=False,
                            timeout_keep_alive=75, h11_max_incomplete_event_size=65536)
    api_server = _ApiServer(config)

    # ----- start: what a previous hoist left running is adopted (the router, the add-on servers and the
    # TLS front, the dynos of each app's current release); then the route table, and the apps -----
    router = RouterChild(settings, paths, secret, on_start=platform.router_started,
                         on_request=platform.router_request, place=host.place)
    if not await router.adopt():
        attempts = 50 if router.child.stopped_stale else 1  # a stale router just stopped frees its ports soon after
        for attempt in range(attempts):
            try:
                check_port_free(settings.host, settings.port)
                check_port_free(settings.host, settings.tls_port, "HOIST_TLS_PORT=N")
                break
            except ServerError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.1)
    await supervisor.recover({a.name for a in apps_t.list_apps(db)})
    await addons.start_all()  # databases first: the apps restored next connect at boot
    restored = platform.restore_all()  # each app adopts the dynos it wants
    adopted, rejected = supervisor.reject_unclaimed()
    platform.publish_routes()
    await keeper.start(router)  # a new one, or the adopted one (which reloads the table now)

    acme = AcmeManager(db, platform.certs, logs,
                       AcmeIssuer(settings.acme_directory, paths.tls / "acme-account.pem", paths.tls / "acme-challenges",
                                  settings.acme_email, settings.acme_ca_bundle or None), acme_status)
    tasks = [asyncio.create_task(api_server.serve(sockets=[sock])), asyncio.create_task(supervisor.run()),
             asyncio.create_task(acme.run())]
    background = Background()
    background.start("metrics", platform.metrics.run())  # the dashboard's metrics history
    addons.start_tasks()
    # Heroku Scheduler's runs: one-off dynos, started once the apps are restored (missed runs run now, once).
    background.start("scheduler", ScheduleRunner(releases, addons.schedules, oneoffs, say).run())
    background.start("connected", connections.run())  # connected repositories: the webhook's fallback
    write_private(paths.server_info, json.dumps({"pid": os.getpid(), "port": settings.port,
                                                 "tls_port": settings.tls_port}))
    if adopted or rejected or router.child.adopted:
        say(f"adopted {adopted} dyno(s) left running by a previous hoist" + (" and its router" if router.child.adopted
            else "") + (f"; stopped {rejected} it left that the apps no longer want" if rejected else ""))
    say(f"listening on http://localhost:{settings.port} (apps at http://APP.localhost:{settings.port}); "
        f"home {paths.home}; {restored} app(s) restored")
    if isolation is None:
        say("running as an ordinary user: apps are not isolated from each other (run as root for per-app users)")
    say("ready")
    try:
        done, _ = await asyncio.wait([asyncio.create_task(stop.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if t.exception() is not None:
                raise t.exception()  # type: ignore[misc]
    finally:
        await background.stop()  # no new scheduler runs; those going are stopped with the one-off dynos
        await platform.promotions.shutdown()
        await connections.shutdown()  # a deploy from a connected repository going now is stopped like a push
        if handover.is_set():
            say("handing over: the apps, the router and the add-on servers keep running; the next "
                "`hoist server` adopts them")
            await supervisor.detach()
            await addons.stop_all(keep_servers=True)
            await oneoffs.shutdown()
            await host.scheduler.detach()
            await keeper.detach_all()
        else:
            say("stopping: dynos get SIGTERM, then SIGKILL after the grace period")
            await keeper.close()  # nothing is restarted from now on (the router may get our signal too)
            await supervisor.shutdown()
            await addons.stop_all()
            await oneoffs.shutdown()
            await host.scheduler.close()
            await keeper.stop(router)
            await keeper.stop_all()
        if host.firewall is not None:
            await host.firewall.close(keep=handover.is_set())
        if host.tree is not None and not handover.is_set():  # a clean stop leaves no cgroup behind
            await asyncio.to_thread(host.tree.unit("shims").wait_empty, 5.0)
            host.tree.remove_all()
        rendezvous.close()
        api_server.should_exit = True
        tasks[-1].cancel()  # the ACME task waits on a timer; it has nothing to finish
        await asyncio.gather(*tasks, return_exceptions=True)
        paths.server_info.unlink(missing_ok=True)
        paths.internal_api.unlink(missing_ok=True)
        await asyncio.to_thread(drains.close, 2.0)  # each drain sends what it holds, for up to 2 s
        logs.close()
        db.close()
        lock.close()
        say("handed over" if handover.is_set() else "stopped")


def run_server(settings: Settings) -> None:
    try:
        asyncio.run(serve(settings))
    except ServerError as exc:
        print(f"hoist: error: {exc}", file=sys.stderr)
        sys.exit(1)
