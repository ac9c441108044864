"""hoist server."""
from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hoist.cli.errors import HoistError

if TYPE_CHECKING:
    from hoist.paths import Paths


@click.command("server")
@click.option("--home", type=click.Path(path_type=Path), help="state directory (env HOIST_HOME)")
@click.option("--port", type=int, help="HTTP port for the API, git and apps (env HOIST_PORT, default 5000)")
@click.option("--tls-port", type=int, help="HTTPS port (env HOIST_TLS_PORT, default 5443)")
@click.option("--domain", help="serve apps as APP.DOMAIN too (env HOIST_DOMAIN)")
@click.option("--restart", is_flag=True, help="take over from the hoist server running with this home (an upgrade): "
              "its apps, router and databases keep serving, and this one adopts them")
def server(home: Path | None, port: int | None, tls_port: int | None, domain: str | None, restart: bool) -> None:
    """Run hoist: API, git receiver, builder, supervisor and router.

    Ctrl-C or SIGTERM stops everything, apps included. SIGUSR2 (or SIGHUP) hands over instead: hoist exits
    and leaves the apps serving for the next `hoist server`, which adopts them (as after a kill -9)."""
    from hoist.paths import Paths
    from hoist.server import run_server
    from hoist.settings import Settings

    try:
        settings = Settings.load({"home": home, "port": port, "tls_port": tls_port, "domain": domain})
    except ValueError as exc:
        raise HoistError(str(exc)) from None
    if restart and hand_over(Paths(settings.home)):
        print("hoist: the running hoist server handed over; taking over its apps", flush=True)
    run_server(settings)


def hand_over(paths: Paths, timeout: float = 120.0) -> bool:
    """Ask the running server of this home to hand over (SIGUSR2) and wait until it has let go of the home;
    False if none runs."""
    lock = paths.lock
    try:
        pid = int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    with lock.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False  # nobody holds it: no server runs
        except OSError:
            pass
        try:
            os.kill(pid, signal.SIGUSR2)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError:
                time.sleep(0.05)
    raise HoistError(f"the running hoist server (pid {pid}) did not hand over within {timeout:g} s; stop it with "
                     f"`kill {pid}` (its apps stop too) and start hoist again")


COMMANDS = [server]
