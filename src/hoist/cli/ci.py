"""ci, ci:enable, ci:disable, ci:info N, ci:last, ci:rerun: Heroku CI's test runs before a release."""
from __future__ import annotations

import json
import time
from typing import Any

import click

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header, keyvals, table


def _show(run: dict[str, Any]) -> None:
    header(f"Test run #{run['number']} of {run['app']['name']}: {run['status']}")
    keyvals([("Commit", (run.get("commit_sha") or "")[:12]), ("Source", run["source"]),
             ("Started", run["created_at"]), ("Finished", run.get("finished_at")),
             ("Exit status", run.get("exit_code")), ("Why", run.get("message") or None)])
    click.echo()
    click.echo(run.get("output", ""), nl=False)


def _verdict(run: dict[str, Any]) -> None:
    """Exit status 0 when the run succeeded, 1 otherwise (scripts can gate on it)."""
    if run["status"] != "succeeded":
        raise click.exceptions.Exit(1)


@click.command("ci")
@app_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def ci_list(c: CliContext, as_json: bool) -> None:
    """List the app's test runs, newest last, and whether pushes wait for them."""
    app = c.app()
    client = c.client()
    runs = client.get(f"/apps/{app}/test-runs")
    if as_json:
        click.echo(json.dumps(runs, indent=2))
        return
    settings = client.get(f"/apps/{app}/ci")
    state = "on" if settings["enabled"] else "off"
    header(f"Test runs of {app} (CI {state}; time limit {settings['time_limit']:g} s)")
    if not runs:
        click.echo(f"No test runs yet. `hoist ci:enable -a {app}` makes every push run app.json's "
                   "environments.test.scripts.test first.")
        return
    table(["#", "Status", "Commit", "Source", "Started", "Why"],
          [[r["number"], r["status"], (r.get("commit_sha") or "")[:8], r["source"], r["created_at"],
            r.get("message") or ""] for r in runs])


@click.command("ci:enable")
@app_option
@click.option("--time-limit", type=float, default=None, help="seconds a test run may take (default: the server's)")
@pass_ctx
def ci_enable(c: CliContext, time_limit: float | None) -> None:
    """Every push (and connected-repository deploy) runs the tests first; a failing run rejects it."""
    app = c.app()
    body: dict[str, Any] = {"enabled": True}
    if time_limit is not None:
        body["time_limit"] = time_limit
    got = c.client().patch(f"/apps/{app}/ci", body).json()
    click.echo(f"CI is on for {app}: pushes wait for the tests (time limit {got['time_limit']:g} s).")


@click.command("ci:disable")
@app_option
@pass_ctx
def ci_disable(c: CliContext) -> None:
    """Pushes deploy without running the tests."""
    app = c.app()
    c.client().patch(f"/apps/{app}/ci", {"enabled": False})
    click.echo(f"CI is off for {app}: pushes deploy without running the tests.")


@click.command("ci:info")
@app_option
@click.argument("number", type=int)
@pass_ctx
def ci_info(c: CliContext, number: int) -> None:
    """Show test run NUMBER with its output; exit status 1 unless it succeeded."""
    run = c.client().get(f"/apps/{c.app()}/test-runs/{number}")
    _show(run)
    _verdict(run)


@click.command("ci:last")
@app_option
@pass_ctx
def ci_last(c: CliContext) -> None:
    """Show the latest test run with its output; exit status 1 unless it succeeded."""
    run = c.client().get(f"/apps/{c.app()}/test-runs/last")
    _show(run)
    _verdict(run)


@click.command("ci:rerun")
@app_option
@pass_ctx
def ci_rerun(c: CliContext) -> None:
    """Run the tests of the current release's build again; stream the output; exit status is the verdict."""
    app = c.app()
    client = c.client()
    run = client.post(f"/apps/{app}/test-runs")
    click.echo(f"Test run #{run['number']} started (commit {(run.get('commit_sha') or '')[:8]})")
    shown = 0
    while True:
        got = client.get(f"/apps/{app}/test-runs/{run['number']}")
        output = got.get("output", "")
        if len(output) > shown:
            click.echo(output[shown:], nl=False)
            shown = len(output)
        if got["status"] != "running":
            break
        time.sleep(1)
    if got["status"] != "succeeded":
        raise HoistError(f"test run #{got['number']} {got['status']}: {got.get('message') or ''}")
    click.echo(f"Test run #{got['number']} succeeded")


COMMANDS = [ci_list, ci_enable, ci_disable, ci_info, ci_last, ci_rerun]
