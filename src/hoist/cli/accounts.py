"""users, users:add, users:remove, users:password-reset (admin); authorizations, authorizations:create, authorizations:revoke."""
from __future__ import annotations

import click

from hoist.cli.context import CliContext
from hoist.cli.options import pass_ctx
from hoist.cli.output import header


@click.command("users")
@pass_ctx
def users_list(c: CliContext) -> None:
    """List the users of this hoist (admin only)."""
    header("Users")
    for u in c.client().get("/users"):
        click.echo(f"{u['email']}{'  (admin)' if u.get('admin') else ''}")


@click.command("users:add")
@click.argument("email")
@click.option("--password", is_flag=True, help="choose the password (asked for) instead of a generated one")
@pass_ctx
def users_add(c: CliContext, email: str, password: bool) -> None:
    """Add a user (admin only); prints a generated password once."""
    body: dict[str, str] = {"email": email}
    if password:
        body["password"] = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    user = c.client().post("/users", body)
    click.echo(f"Added {user['email']}.")
    if "password" in user:
        click.echo(f"Password (shown once; they log in with `hoist login --email {user['email']}`): "
                   f"{user['password']}")


@click.command("users:remove")
@click.argument("email")
@pass_ctx
def users_remove(c: CliContext, email: str) -> None:
    """Remove a user and their tokens (admin only)."""
    c.client().delete(f"/users/{email}")
    click.echo(f"Removed {email}.")


@click.command("users:password-reset")
@click.argument("email")
@pass_ctx
def users_password_reset(c: CliContext, email: str) -> None:
    """Give a user a new generated password (admin only); prints it once. Their old one stops working."""
    user = c.client().post(f"/users/{email}/password-reset", {})
    click.echo(f"New password for {user['email']} (shown once): {user['password']}")


@click.command("authorizations")
@pass_ctx
def authorizations(c: CliContext) -> None:
    """List your API tokens (not the tokens themselves)."""
    header("Authorizations")
    for a in c.client().get("/oauth/authorizations"):
        expires = a["access_token"]["expires_in"]
        click.echo(f"{a['id']}  {a['description'] or '-'}  created {a['created_at']}  "
                   f"last used {a.get('last_used_at') or 'never'}  "
                   f"{'expires in ' + str(expires) + ' s' if expires is not None else 'no expiry'}")


@click.command("authorizations:create")
@click.option("-d", "--description", default="", help="what the token is for")
@click.option("-e", "--expires-in", type=int, help="seconds until the token expires")
@click.option("-S", "--short", is_flag=True, help="print only the token")
@pass_ctx
def authorizations_create(c: CliContext, description: str, expires_in: int | None, short: bool) -> None:
    """Create an API token; it is shown once."""
    body: dict[str, object] = {"description": description}
    if expires_in is not None:
        body["expires_in"] = expires_in
    a = c.client().post("/oauth/authorizations", body)
    click.echo(a["access_token"]["token"])
    click.echo(f"(id {a['id']}; revoke with `hoist authorizations:revoke {a['id']}`)", err=True)


@click.command("authorizations:revoke")
@click.argument("id")
@pass_ctx
def authorizations_revoke(c: CliContext, id: str) -> None:
    """Revoke an API token."""
    c.client().delete(f"/oauth/authorizations/{id}")
    click.echo(f"Revoked {id}.")


COMMANDS = [users_list, users_add, users_remove, users_password_reset, authorizations, authorizations_create,
            authorizations_revoke]
