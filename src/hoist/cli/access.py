"""access, access:add, access:remove; activity (the app's audit log)."""
from __future__ import annotations

import click

from hoist.cli.context import CliContext
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header


@click.command("access")
@app_option
@pass_ctx
def access(c: CliContext) -> None:
    """List who can act on the app."""
    app = c.app()
    header(f"{app} Access List")
    for item in c.client().get(f"/apps/{app}/collaborators"):
        click.echo(f"{item['user']['email']}  {item['role']}")


@click.command("access:add")
@app_option
@click.argument("email")
@pass_ctx
def access_add(c: CliContext, email: str) -> None:
    """Give a user access to the app (owner or admin only)."""
    app = c.app()
    c.client().post(f"/apps/{app}/collaborators", {"user": email})
    click.echo(f"Added {email} to {app} as a collaborator.")


@click.command("access:remove")
@app_option
@click.argument("email")
@pass_ctx
def access_remove(c: CliContext, email: str) -> None:
    """Take a user's access to the app away (owner or admin only)."""
    app = c.app()
    c.client().delete(f"/apps/{app}/collaborators/{email}")
    click.echo(f"Removed {email} from {app}.")


@click.command("activity")
@app_option
@pass_ctx
def activity(c: CliContext) -> None:
    """Who did what to the app: deploys, config, scaling, access, add-ons."""
    app = c.app()
    header(f"{app} Activity")
    for a in c.client().get(f"/apps/{app}/activity"):
        click.echo(f"{a['created_at']}  {a['user']['email']}  {a['action']}  {a['detail']}")


COMMANDS = [access, access_add, access_remove, activity]
