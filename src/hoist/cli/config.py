"""config, config:get, config:set, config:unset."""
from __future__ import annotations

import json

import click

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.outcome import check_release
from hoist.cli.output import header
from hoist.cli.parsing import ArgError, parse_config_pairs


@click.command("config")
@app_option
@click.option("-s", "--shell", is_flag=True, help="print KEY=VALUE lines for a .env file")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def config_show(c: CliContext, shell: bool, as_json: bool) -> None:
    """Show the app's config vars."""
    app = c.app()
    cfg = c.client().get(f"/apps/{app}/config-vars")
    if as_json:
        click.echo(json.dumps(cfg, indent=2, sort_keys=True))
        return
    if shell:
        for k, v in sorted(cfg.items()):
            click.echo(f"{k}={v}")
        return
    header(f"{app} Config Vars")
    width = max((len(k) for k in cfg), default=0)
    for k, v in sorted(cfg.items()):
        click.echo(f"{(k + ':').ljust(width + 1)} {v}")


@click.command("config:get")
@app_option
@click.argument("key")
@pass_ctx
def config_get(c: CliContext, key: str) -> None:
    """Print one config var's value."""
    cfg = c.client().get(f"/apps/{c.app()}/config-vars")
    click.echo(cfg.get(key, ""))


@click.command("config:set")
@app_option
@click.argument("pairs", nargs=-1, required=True)
@pass_ctx
def config_set(c: CliContext, pairs: tuple[str, ...]) -> None:
    """Set config vars (KEY=VALUE ...); makes a new release."""
    try:
        changes = parse_config_pairs(list(pairs))
    except ArgError as exc:
        raise HoistError(str(exc)) from None
    app = c.app()
    click.echo(f"Setting {', '.join(changes)} and restarting {app}... ", nl=False)
    client = c.client()
    resp = client.patch(f"/apps/{app}/config-vars", changes)
    check_release(client, app, resp.headers)
    if "hoist-release-warning" not in resp.headers:
        click.echo(f"done, {resp.headers.get('hoist-release', '')}")
    for k in changes:
        click.echo(f"{k}: {resp.json().get(k, '')}")


@click.command("config:unset")
@app_option
@click.argument("keys", nargs=-1, required=True)
@pass_ctx
def config_unset(c: CliContext, keys: tuple[str, ...]) -> None:
    """Remove config vars; makes a new release."""
    app = c.app()
    click.echo(f"Unsetting {', '.join(keys)} and restarting {app}... ", nl=False)
    client = c.client()
    resp = client.patch(f"/apps/{app}/config-vars", {k: None for k in keys})
    check_release(client, app, resp.headers)
    if "hoist-release-warning" not in resp.headers:
        click.echo(f"done, {resp.headers.get('hoist-release', '')}")


COMMANDS = [config_show, config_get, config_set, config_unset]
