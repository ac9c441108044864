"""apps, apps:create, apps:info, apps:destroy, apps:rename, apps:transfer, open, git:remote."""
from __future__ import annotations

import subprocess
import webbrowser

import click

from hoist.cli.context import CliContext, git_remotes
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header, keyvals


def _add_remote(git_url: str, remote: str) -> bool:
    inside = subprocess.run(["git", "rev-parse", "--git-dir"], capture_output=True)
    if inside.returncode != 0:
        return False
    existing = subprocess.run(["git", "remote", "get-url", remote], capture_output=True)
    verb = "set-url" if existing.returncode == 0 else "add"
    subprocess.run(["git", "remote", verb, remote, git_url], check=True)
    return True


def _has_remote(remote: str) -> bool:
    return subprocess.run(["git", "remote", "get-url", remote], capture_output=True).returncode == 0


@click.command("apps")
@pass_ctx
def apps_list(c: CliContext) -> None:
    """List your apps."""
    apps = c.client().get_all("/apps")
    header("Apps")
    if not apps:
        click.echo("You have no apps. Create one with `hoist apps:create NAME`.")
    for a in apps:
        click.echo(a["name"])


@click.command("apps:create")
@click.argument("name", required=False)
@click.option("--remote", default="hoist", show_default=True, help="name of the git remote to add")
@click.option("--no-remote", is_flag=True, help="do not add a git remote")
@pass_ctx
def apps_create(c: CliContext, name: str | None, remote: str, no_remote: bool) -> None:
    """Create an app (a random name when NAME is omitted) and add the git remote `hoist` (and `heroku`, as the
    heroku CLI does, when the repository has none: tutorials say `git push heroku master`)."""
    click.echo(f"Creating {name or 'app'}... ", nl=False)
    app = c.client().post("/apps", {"name": name} if name else {})
    click.echo(f"done, {app['name']}")
    click.echo(f"{app['web_url']} | {app['git_url']}")
    if no_remote:
        return
    heroku_free = remote != "heroku" and not _has_remote("heroku")
    if _add_remote(app["git_url"], remote):
        click.echo(f"Git remote {remote} added")
        if heroku_free and _add_remote(app["git_url"], "heroku"):
            click.echo("Git remote heroku added")


@click.command("apps:info")
@app_option
@pass_ctx
def apps_info(c: CliContext) -> None:
    """Show an app's details."""
    client = c.client()
    a = client.get(f"/apps/{c.app()}")
    dynos = client.get(f"/apps/{a['name']}/dynos")
    header(a["name"])
    keyvals([("Git URL", a["git_url"]), ("Web URL", a["web_url"]), ("Owner", a["owner"]["email"]),
             ("Dynos", ", ".join(f"{d['name']}: {d['state']}" for d in dynos) or "none"),
             ("Maintenance", "on" if a["maintenance"] else "off"), ("Released", a["released_at"]),
             ("Created", a["created_at"]), ("Slug size", f"{(a['slug_size'] or 0) / 1e6:.1f} MB")])


@click.command("apps:destroy")
@app_option
@click.argument("app_arg", metavar="[APP]", required=False)
@click.option("--confirm", help="the app's name, to confirm")
@pass_ctx
def apps_destroy(c: CliContext, app_arg: str | None, confirm: str | None) -> None:
    """Permanently destroy an app, its releases, dynos and logs (and this repo's git remotes for it)."""
    name = app_arg or c.app()
    if confirm != name:
        raise HoistError(f"this destroys {name} and everything in it. Run again with --confirm {name}")
    click.echo(f"Destroying {name}... ", nl=False)
    resp = c.client().request("DELETE", f"/apps/{name}")
    click.echo("done")
    if resp.headers.get("warning-message"):
        click.echo(f" !    {resp.headers['warning-message']}", err=True)
    for remote in _remotes_of(name, c.api_url):
        subprocess.run(["git", "remote", "remove", remote], capture_output=True)
        click.echo(f"Git remote {remote} removed")


def _remotes_of(app: str, api_url: str) -> list[str]:
    """The current repo's remotes that point at `app` on this hoist, as heroku apps:destroy removes them."""
    return sorted(r for r, a in git_remotes(api_url).items() if a == app)


@click.command("apps:rename")
@app_option
@click.argument("new_name")
@pass_ctx
def apps_rename(c: CliContext, new_name: str) -> None:
    """Rename the app; its releases, config, add-ons, dynos and logs stay. This repo's git remotes follow."""
    old = c.app()
    click.echo(f"Renaming {old} to {new_name}... ", nl=False)
    app = c.client().patch(f"/apps/{old}", {"name": new_name}).json()
    click.echo("done")
    click.echo(f"{app['web_url']} | {app['git_url']}")
    for remote in _remotes_of(old, c.api_url):
        url = subprocess.run(["git", "remote", "get-url", remote], capture_output=True, text=True).stdout.strip()
        subprocess.run(["git", "remote", "set-url", remote, url.replace(f"/{old}.git", f"/{app['name']}.git")],
                       check=True)
        click.echo(f"Git remote {remote} updated")
    click.echo("Other checkouts of the app still point at the old name: run `hoist git:remote` there.")


@click.command("apps:transfer")
@app_option
@click.argument("recipient")
@click.option("--remove-previous-owner", is_flag=True, help="do not keep the previous owner on as a collaborator")
@pass_ctx
def apps_transfer(c: CliContext, recipient: str, remove_previous_owner: bool) -> None:
    """Hand the app to another user (the owner or the admin may); the previous owner stays a collaborator."""
    name = c.app()
    click.echo(f"Transferring {name} to {recipient}... ", nl=False)
    t = c.client().post("/account/app-transfers", {"app": name, "recipient": recipient,
                                                   "remove_previous_owner": remove_previous_owner})
    click.echo("done")
    if not remove_previous_owner:
        click.echo(f"{t['owner']['email']} stays on as a collaborator (`hoist access:remove` to change that)")


@click.command("open")
@app_option
@pass_ctx
def open_app(c: CliContext) -> None:
    """Open the app in a browser (prints the URL)."""
    url = c.client().get(f"/apps/{c.app()}")["web_url"]
    click.echo(url)
    webbrowser.open(url)


@click.command("git:remote")
@app_option
@click.option("-r", "--remote", default="hoist", show_default=True, help="the remote's name (e.g. heroku)")
@pass_ctx
def git_remote(c: CliContext, remote: str) -> None:
    """Add (or update) a git remote for the app in the current repo."""
    app = c.client().get(f"/apps/{c.app()}")
    if not _add_remote(app["git_url"], remote):
        raise HoistError("not inside a git repository: run `git init` first.")
    click.echo(f"set git remote {remote} to {app['git_url']}")


COMMANDS = [apps_list, apps_create, apps_info, apps_destroy, apps_rename, apps_transfer, open_app, git_remote]
