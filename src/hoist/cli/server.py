"""hoist server."""
from __future__ import annotations

from pathlib import Path

import click

from hoist.cli.errors import HoistError


@click.command("server")
@click.option("--home", type=click.Path(path_type=Path), help="state directory (env HOIST_HOME)")
@click.option("--port", type=int, help="HTTP port for the API, git and apps (env HOIST_PORT, default 5000)")
@click.option("--tls-port", type=int, help="HTTPS port (env HOIST_TLS_PORT, default 5443)")
@click.option("--domain", help="serve apps as APP.DOMAIN too (env HOIST_DOMAIN)")
def server(home: Path | None, port: int | None, tls_port: int | None, domain: str | None) -> None:
    """Run hoist: API, git receiver, builder, supervisor and router in one process tree."""
    from hoist.server import run_server
    from hoist.settings import Settings

    try:
        settings = Settings.load({"home": home, "port": port, "tls_port": tls_port, "domain": domain})
    except ValueError as exc:
        raise HoistError(str(exc)) from None
    run_server(settings)


COMMANDS = [server]
