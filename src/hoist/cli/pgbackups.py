"""pg:backups, pg:backups:capture, :restore, :download, :schedule, :unschedule."""
from __future__ import annotations

import click

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header, table
from hoist.cli.pg import DEFAULT_DB, human_size


def _latest(c: CliContext, app: str) -> str:
    done = [b for b in c.client().get(f"/apps/{app}/pg/backups") if b["status"] == "completed"]
    if not done:
        raise HoistError(f"{app} has no completed backups; take one with `hoist pg:backups:capture -a {app}`.")
    return str(done[-1]["name"])


@click.command("pg:backups")
@app_option
@pass_ctx
def backups_list(c: CliContext) -> None:
    """List the app's backups with size and time."""
    app = c.app()
    items = c.client().get(f"/apps/{app}/pg/backups")
    header(f"Backups of {app}")
    if not items:
        click.echo(f"No backups. Capture one with `hoist pg:backups:capture -a {app}`.")
        return
    table(["ID", "Created at", "Status", "Size", "Database", "Source"],
          [[b["name"], b["created_at"], b["status"], human_size(b["size"]), b["addon"]["name"], b["source"]]
           for b in reversed(items)])


@click.command("pg:backups:capture")
@app_option
@click.argument("database", default=DEFAULT_DB)
@pass_ctx
def backups_capture(c: CliContext, database: str) -> None:
    """Back up the database now."""
    app = c.app()
    click.echo(f"Backing up {database} of {app}... ", nl=False)
    b = c.client().post(f"/apps/{app}/addons/{database}/pg/backups")
    click.echo(f"done, {b['name']} ({human_size(b['size'])})")


@click.command("pg:backups:restore")
@app_option
@click.argument("backup", required=False)
@click.argument("database", default=DEFAULT_DB)
@click.option("--confirm", help="the app's name, to confirm")
@pass_ctx
def backups_restore(c: CliContext, backup: str | None, database: str, confirm: str | None) -> None:
    """Replace DATABASE's contents with BACKUP (default: the latest)."""
    app = c.app()
    backup = backup or _latest(c, app)
    if confirm != app:
        raise HoistError(f"restoring {backup} replaces everything in {database} of {app}. "
                         f"Run again with --confirm {app}")
    click.echo(f"Restoring {backup} into {database} of {app}... ", nl=False)
    c.client().post(f"/apps/{app}/pg/backups/{backup}/restore", {"addon": database, "confirm": app})
    click.echo("done")


@click.command("pg:backups:download")
@app_option
@click.argument("backup", required=False)
@click.option("-o", "--output", help="file to write (default APP-bNNN.dump)")
@pass_ctx
def backups_download(c: CliContext, backup: str | None, output: str | None) -> None:
    """Download a backup (pg_dump custom format; load it with pg_restore)."""
    app = c.app()
    backup = backup or _latest(c, app)
    dest = output or f"{app}-{backup}.dump"
    size = c.client().download(f"/apps/{app}/pg/backups/{backup}/download", dest)
    click.echo(f"Wrote {backup} to {dest} ({human_size(size)})")


@click.command("pg:backups:schedule")
@app_option
@click.argument("database", default=DEFAULT_DB)
@click.option("--at", "at", required=True, help="time of day, HH:MM (UTC)")
@click.option("--keep", default=7, show_default=True, help="how many scheduled backups to keep")
@pass_ctx
def backups_schedule(c: CliContext, database: str, at: str, keep: int) -> None:
    """Back up DATABASE every day at HH:MM UTC, keeping the last N."""
    app = c.app()
    s = c.client().put(f"/apps/{app}/addons/{database}/pg/backup-schedule", {"at": at, "keep": keep})
    click.echo(f"Scheduled daily backups of {s['addon']['name']} at {s['at']} UTC, keeping {s['keep']} "
               f"(next {s['next_run']})")


@click.command("pg:backups:unschedule")
@app_option
@click.argument("database", default=DEFAULT_DB)
@pass_ctx
def backups_unschedule(c: CliContext, database: str) -> None:
    """Stop the daily backups of DATABASE."""
    app = c.app()
    c.client().request("DELETE", f"/apps/{app}/addons/{database}/pg/backup-schedule")
    click.echo(f"Stopped daily backups of {database} on {app}")


COMMANDS = [backups_list, backups_capture, backups_restore, backups_download, backups_schedule, backups_unschedule]
