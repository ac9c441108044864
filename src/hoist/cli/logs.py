"""logs [-n N] [--tail] [-d DYNO] [-s SOURCE]."""
from __future__ import annotations

import click

from hoist.cli.context import CliContext
from hoist.cli.options import app_option, pass_ctx


@click.command("logs")
@app_option
@click.option("-n", "--num", default=100, show_default=True, help="how many recent lines")
@click.option("-t", "--tail", is_flag=True, help="keep streaming new lines")
@click.option("-d", "--dyno", help="only this dyno or type (web.1, web, router)")
@click.option("-s", "--source", help="only this source (app, heroku, router)")
@pass_ctx
def logs(c: CliContext, num: int, tail: bool, dyno: str | None, source: str | None) -> None:
    """Show the app's logs: build, release, app and router lines."""
    client = c.client()
    body: dict[str, object] = {"lines": num, "tail": tail}
    if dyno:
        body["dyno"] = dyno
    if source:
        body["source"] = source
    session = client.post(f"/apps/{c.app()}/log-sessions", body)
    try:
        for line in client.stream_lines(session["logplex_url"]):
            click.echo(line)
    except KeyboardInterrupt:
        pass


COMMANDS = [logs]
