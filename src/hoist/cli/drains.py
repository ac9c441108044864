"""drains, drains:add, drains:remove: send the app's log lines to a syslog server or an HTTPS endpoint."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from hoist.cli.context import CliContext
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import listing


def _status(d: dict[str, Any]) -> str:
    s = d.get("status")
    if not s:
        return "not running"
    text = f"{s['state']}, {s['delivered']} sent"
    if s.get("dropped"):
        text += f", {s['dropped']} dropped (L10)"
    if s.get("buffered"):
        text += f", {s['buffered']} waiting"
    if s.get("error"):
        text += f": {s['error']}"
    return text


@click.command("drains")
@app_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def drains_list(c: CliContext, as_json: bool) -> None:
    """The app's log drains (URLs masked: they are secrets) and how each is doing."""
    app = c.app()
    drains = c.client().get(f"/apps/{app}/log-drains")
    listing(drains, as_json=as_json, title=f"{app} Drains", headers=["URL", "Token", "Status"],
            row=lambda d: [d["url"], d["token"], _status(d)],
            empty=f"No drains. Add one with `hoist drains:add syslog+tls://HOST:PORT -a {app}`.")


@click.command("drains:add")
@app_option
@click.argument("url")
@pass_ctx
def drains_add(c: CliContext, url: str) -> None:
    """Send the app's log lines to URL: syslog+tls://HOST:PORT, syslog://HOST:PORT or https://..."""
    app = c.app()
    drain = c.client().post(f"/apps/{app}/log-drains", {"url": url})
    click.echo(f"Successfully added drain {drain['url']} (token {drain['token']})")


@click.command("drains:remove")
@app_option
@click.argument("url_or_token")
@pass_ctx
def drains_remove(c: CliContext, url_or_token: str) -> None:
    """Stop draining to a URL (give the URL you added, or the drain's token)."""
    app = c.app()
    drain = c.client().delete(f"/apps/{app}/log-drains/{quote(url_or_token, safe='')}")
    click.echo(f"Successfully removed drain {drain['url']}")


COMMANDS = [drains_list, drains_add, drains_remove]
