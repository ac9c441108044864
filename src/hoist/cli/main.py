"""The `hoist` command: Heroku's command names, talking to the API over HTTP only."""
from __future__ import annotations

import click

from hoist import __version__
from hoist.cli import apps, auth, builds, config, domains, logs, ps, releases, run, server
from hoist.cli import access, accounts
from hoist.cli import addons, dataclips, pg, pgbackups, scheduler
from hoist.cli import ci, connect
from hoist.cli import drains, nodes, pipelines
from hoist.cli import herokuenv, localpg
from hoist.cli.context import CliContext, default_api_url
from hoist.cli.errors import track_stdout


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--api", "api_url", envvar="HOIST_API_URL", help="API URL (env HOIST_API_URL; default the local server)")
@click.version_option(__version__, prog_name="hoist")
@click.pass_context
def cli(ctx: click.Context, api_url: str | None) -> None:
    """hoist: git push your Python web app to hardware you own."""
    obj = ctx.ensure_object(CliContext)
    obj.api_url = api_url or default_api_url()


for module in (apps, auth, config, logs, ps, releases, builds, run, server, domains, addons, pg, pgbackups, dataclips,
               scheduler, pipelines, drains, nodes):
    for command in module.COMMANDS:
        cli.add_command(command)
for module in (ci, connect):
    for command in module.COMMANDS:
        cli.add_command(command)
for module in (accounts, access, herokuenv, localpg):
    for command in module.COMMANDS:
        cli.add_command(command)
cli.add_command(apps.apps_create, "create")
cli.add_command(apps.apps_destroy, "destroy")
cli.add_command(apps.apps_info, "info")
cli.add_command(auth.logout, "auth:logout")


def main() -> None:
    track_stdout()
    cli(obj=CliContext(api_url=""))
