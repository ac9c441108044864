"""dataclips, dataclips:create, dataclips:destroy."""
from __future__ import annotations

import click

from hoist.cli.context import CliContext
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header, table


@click.command("dataclips")
@app_option
@pass_ctx
def clips_list(c: CliContext) -> None:
    """List the app's dataclips and their secret URLs."""
    app = c.app()
    items = c.client().get(f"/apps/{app}/dataclips")
    header(f"Dataclips of {app}")
    if not items:
        click.echo(f"No dataclips. Create one with `hoist dataclips:create NAME --query 'SELECT ...' -a {app}`.")
        return
    table(["Name", "Database", "CSV URL"], [[d["name"], d["addon"]["name"], d["csv_url"]] for d in items])


@click.command("dataclips:create")
@app_option
@click.argument("name")
@click.option("--query", "sql", required=True, help="one read-only SQL query")
@click.option("--database", default="DATABASE_URL", show_default=True, help="which database it reads")
@pass_ctx
def clips_create(c: CliContext, name: str, sql: str, database: str) -> None:
    """Save a read-only query with a secret URL (HTML, .csv, .json); anyone with the URL can read the result."""
    app = c.app()
    d = c.client().post(f"/apps/{app}/dataclips", {"name": name, "sql": sql, "addon": database})
    click.echo(f"Created dataclip {d['name']}")
    click.echo(f"HTML: {d['url']}")
    click.echo(f"CSV:  {d['csv_url']}")
    click.echo(f"JSON: {d['json_url']}")
    click.echo(f"In a spreadsheet: =IMPORTDATA(\"{d['csv_url']}\")")


@click.command("dataclips:destroy")
@app_option
@click.argument("name")
@pass_ctx
def clips_destroy(c: CliContext, name: str) -> None:
    """Delete a dataclip; its URL stops working."""
    app = c.app()
    c.client().delete(f"/apps/{app}/dataclips/{name}")
    click.echo(f"Destroyed dataclip {name}")


COMMANDS = [clips_list, clips_create, clips_destroy]
