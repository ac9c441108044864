"""addons, addons:create, addons:info, addons:destroy, addons:services, addons:plans."""
from __future__ import annotations

import json
from typing import Any

import click

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.outcome import check_release
from hoist.cli.output import header, keyvals, listing, table


def _plan(a: dict[str, Any]) -> str:
    return str((a.get("plan") or {}).get("name", ""))


@click.command("addons")
@app_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def addons_list(c: CliContext, as_json: bool) -> None:
    """List the app's add-ons."""
    app = c.app()
    items = c.client().get_all(f"/apps/{app}/addons")
    listing(items, as_json=as_json, headers=["Add-on", "Plan", "State", "Config vars"],
            row=lambda a: [a["name"], _plan(a), a["state"], ", ".join(a["config_vars"])],
            empty=f"{app} has no add-ons. Add a database with `hoist addons:create heroku-postgresql`.")


@click.command("addons:create")
@app_option
@click.argument("plan")
@pass_ctx
def addons_create(c: CliContext, plan: str) -> None:
    """Create an add-on: heroku-postgresql[:PLAN], heroku-redis, redistogo, rediscloud, rabbitmq-bigwig,
    cloudamqp, amqp or scheduler (`hoist addons:services` lists them)."""
    app = c.app()
    click.echo(f"Creating {plan} on {app}... ", nl=False)
    client = c.client()
    resp = client.request("POST", f"/apps/{app}/addons", json={"plan": plan})
    addon = resp.json()
    check_release(client, app, resp.headers)
    if "hoist-release-warning" not in resp.headers:
        click.echo("done")
    if addon["config_vars"]:
        click.echo(f"Created {addon['name']} as {', '.join(addon['config_vars'])}")
    else:
        click.echo(f"Created {addon['name']}")
    service = addon["addon_service"]["name"]
    if service == "heroku-postgresql":
        click.echo(f"Use `hoist pg:psql -a {app}` to connect and `hoist pg:backups:capture -a {app}` to back it up.")
    elif service == "scheduler":
        click.echo(f"Add jobs with `hoist scheduler:add \"python task.py\" --every 1h -a {app}`.")


@click.command("addons:info")
@app_option
@click.argument("addon")
@pass_ctx
def addons_info(c: CliContext, addon: str) -> None:
    """Show one add-on (by name or attachment, e.g. DATABASE)."""
    client = c.client()
    a = client.get(f"/apps/{c.app()}/addons/{addon}")
    attached = client.get(f"/addons/{a['id']}/addon-attachments")
    header(a["name"])
    keyvals([("Attachments", ", ".join(f"{a['app']['name']}::{t['name']}" for t in attached)),
             ("Config vars", ", ".join(a["config_vars"])),
             ("Installed at", a["created_at"]), ("Owning app", a["app"]["name"]), ("Plan", _plan(a)),
             ("Service", a["addon_service"]["name"]), ("State", a["state"])])


@click.command("addons:destroy")
@app_option
@click.argument("addon")
@click.option("--confirm", help="the app's name, to confirm")
@pass_ctx
def addons_destroy(c: CliContext, addon: str, confirm: str | None) -> None:
    """Destroy an add-on (Postgres: after a final backup; restore it later with pg:backups:restore)."""
    app = c.app()
    if confirm != app:
        raise HoistError(f"this destroys {addon} and its data on {app}. Run again with --confirm {app}")
    click.echo(f"Destroying {addon} on {app}... ", nl=False)
    client = c.client()
    resp = client.request("DELETE", f"/apps/{app}/addons/{addon}")
    gone = resp.json()
    check_release(client, app, resp.headers)
    if "hoist-release-warning" not in resp.headers:
        click.echo("done")
    if gone["addon_service"]["name"] == "heroku-postgresql":
        click.echo(f"A final backup was kept: see `hoist pg:backups -a {app}`.")


@click.command("addons:services")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def addons_services(c: CliContext, as_json: bool) -> None:
    """List the add-on services hoist offers."""
    items = c.client().get("/addon-services")
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    table(["Slug", "Name", "State"], [[s["name"], s["human_name"], s["state"]] for s in items])
    click.echo("\nSee plans with `hoist addons:plans SERVICE`.")


@click.command("addons:plans")
@click.argument("service")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def addons_plans(c: CliContext, service: str, as_json: bool) -> None:
    """List the plans of an add-on service (every plan is the same local server, and free)."""
    items = c.client().get(f"/addon-services/{service}/plans")
    listing(items, as_json=as_json, headers=["", "Slug", "Name", "Price"],
            row=lambda p: ["default" if p["default"] else "", p["name"], p["human_name"], "free"])


COMMANDS = [addons_list, addons_create, addons_info, addons_destroy, addons_services, addons_plans]
