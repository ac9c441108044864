"""hoist's RabbitMQ node: Debian's rabbitmq-server, run detached as its own system user with every file
under one directory of hoist's home, listening on 127.0.0.1 only, and its own epmd on a private port.

A `Daemon` for the keeper (`keeper.Detached`): `start` returns once the node accepts AMQP connections,
`is_running` checks the node's pid, `stop` stops it (SIGTERM, grace, SIGKILL) and then its epmd. A node left
running by a hoist that was killed is found by its pid file and adopted, as Redis and Postgres are."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import psutil

from hoist.addons import sysuser
from hoist.addons.amqp.config import (ENABLED_PLUGINS, NodeFiles, NodePorts, node_env, rabbitmq_conf,
                                      with_swarm_listener)
from hoist.addons.amqp.ctl import RabbitCtl
from hoist.addons.amqp.errors import AmqpError
from hoist.addons.errors import AddonError
from hoist.procs import LOOPBACK, free_port, port_open, random_password, stop_pid

DEFAULT_BIN = Path("/usr/lib/rabbitmq/bin")
USER = "hoist_rabbitmq"  # app names cannot hold '_', so no app's user (hoist-APP) can be this one
BOOT_TIMEOUT = 90.0
STOP_GRACE = 30.0


def install_hint(bin_dir: Path) -> str:
    return (f"RabbitMQ is not installed on this machine (no rabbitmq-server in {bin_dir}). Install Debian's "
            "package as root: `apt-get install -y rabbitmq-server`, then `systemctl disable --now "
            "rabbitmq-server` (hoist starts a node of its own), and run addons:create again.")


class RabbitNode:
    """The one RabbitMQ node every AMQP add-on of this hoist lives on (a vhost each)."""

    def __init__(self, root: Path, bin_dir: Path = DEFAULT_BIN, boot_timeout: float = BOOT_TIMEOUT,
                 also: str = "") -> None:
        self.files = NodeFiles(Path(root).absolute())
        self.also = also  # a second address for AMQP (HOIST_SWARM_HOST_ADDR: swarm dynos connect there)
        self.bin_dir = bin_dir
        self.boot_timeout = boot_timeout
        self._ports: NodePorts | None = None

    # ----- what it needs -----

    def check_installed(self) -> None:
        """Raise AmqpError saying which apt-get install to run when the package is missing."""
        for name in ("rabbitmq-server", "rabbitmqctl"):
            if not os.access(self.bin_dir / name, os.X_OK):
                raise AmqpError(install_hint(self.bin_dir))

    def run_as(self) -> sysuser.RunAs:
        try:
            return sysuser.server_user(USER, purpose="RabbitMQ")
        except AddonError as exc:
            raise AmqpError(str(exc)) from None

    @property
    def ports(self) -> NodePorts:
        """The node's ports, chosen on first use and kept (apps' URLs name the AMQP port)."""
        if self._ports is None:
            if self.files.ports.exists():
                self._ports = NodePorts.parse(self.files.ports.read_text())
            else:
                chosen: list[int] = []
                while len(chosen) < 3:
                    port = free_port()
                    if port not in chosen:
                        chosen.append(port)
                self._ports = NodePorts(*chosen)
                self.files.root.mkdir(parents=True, exist_ok=True, mode=0o700)
                _write_private(self.files.ports, self._ports.dump(), 0o600)  # hoist's record, not the node's
        return self._ports

    def env(self) -> dict[str, str]:
        return node_env(self.files, self.ports)

    def ctl(self) -> RabbitCtl:
        """rabbitmqctl as the node's user, with the node's cookie and epmd."""
        return RabbitCtl(self.bin_dir / "rabbitmqctl", self.env(), self.run_as())

    def _prepare(self, run_as: sysuser.RunAs) -> None:
        """Directories, cookie (0400, the node user's), config, no plugins; owned by the node's user."""
        f = self.files
        _ = self.ports
        for directory in (f.root, f.home, f.mnesia, f.logs):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            directory.chmod(0o700)
            run_as.chown(directory)
        sysuser.ensure_traversable(f.root, run_as)
        if not f.cookie.exists():
            _write_private(f.cookie, random_password(40), 0o400)
        if not f.conf.exists():  # the default user's password matters only at the node's first boot
            _write_private(f.conf, rabbitmq_conf(self.ports, "hoist-admin", random_password()), 0o600)
        _write_private(f.conf, with_swarm_listener(f.conf.read_text(), self.ports, self.also), 0o600)
        _write_private(f.plugins, ENABLED_PLUGINS, 0o600)
        _write_private(f.env_conf, "", 0o600)
        for path in (f.cookie, f.conf, f.plugins, f.env_conf):
            run_as.chown(path)

    # ----- the Daemon shape -----

    def start(self) -> None:
        """Start the node unless it runs; return once it accepts AMQP connections."""
        if self.is_running():
            return
        self.check_installed()
        run_as = self.run_as()
        self._prepare(run_as)
        self.files.pidfile.unlink(missing_ok=True)
        result = subprocess.run([str(self.bin_dir / "rabbitmq-server"), "-detached"], env=self.env(),
                                cwd=self.files.root, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=60, **run_as.popen_kwargs())
        if result.returncode != 0:
            raise AmqpError(f"rabbitmq-server did not start: {(result.stderr or result.stdout).strip()[-600:]}; "
                            f"see {self.files.logs}")
        deadline = time.monotonic() + self.boot_timeout
        seen = False
        while time.monotonic() < deadline:
            running = self.is_running()
            seen = seen or running
            if running and port_open(LOOPBACK, self.ports.amqp):
                return
            if seen and not running:
                break
            time.sleep(0.1)
        self.stop()
        raise AmqpError(f"RabbitMQ did not start within {self.boot_timeout:g} s (AMQP port {self.ports.amqp}); "
                        f"is the port taken? Its log says:\n{self.log_tail()}")

    def pid(self) -> int | None:
        """The node's pid (a beam process started with this node's HOME), or None."""
        try:
            pid = int(self.files.pidfile.read_text().strip())
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE or not proc.name().startswith("beam"):
                return None
            cmdline = proc.cmdline()
        except (OSError, ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return pid if str(self.files.home) in cmdline else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def stop(self) -> None:
        """SIGTERM (RabbitMQ shuts down cleanly), SIGKILL after the grace; then its epmd goes too."""
        pid = self.pid()
        if pid is not None:  # the node removes its pid file as it begins to stop: watch the process itself
            stop_pid(pid, lambda: _alive(pid), STOP_GRACE)
        epmd = shutil.which("epmd")
        if epmd and self.files.ports.exists():
            subprocess.run([epmd, "-port", str(self.ports.epmd), "-kill"], env=self.env(), capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=10, **self.run_as().popen_kwargs())

    def log_tail(self, chars: int = 1200) -> str:
        try:
            return self.files.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log yet)"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _write_private(path: Path, text: str, mode: int) -> None:
    """Write `text` to `path` with `mode` from the start (a cookie or password is never readable by others)."""
    if path.exists():
        path.chmod(0o600)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(mode)
