"""apps:connect, apps:connection, apps:disconnect: deploys from a connected git repository."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header, keyvals, table


def _credential(token_file: str | None, deploy_key: str | None) -> dict[str, str] | None:
    """A token (from a file or HOIST_REPO_TOKEN; never from the command line) or an SSH deploy key."""
    if token_file and deploy_key:
        raise HoistError("give either --token-file or --deploy-key, not both")
    if deploy_key:
        return {"kind": "deploy-key", "value": Path(deploy_key).read_text()}
    token = Path(token_file).read_text().strip() if token_file else os.environ.get("HOIST_REPO_TOKEN", "").strip()
    return {"kind": "token", "value": token} if token else None


@click.command("apps:connect")
@app_option
@click.argument("git_url")
@click.option("--branch", default="main", show_default=True, help="the branch whose commits deploy")
@click.option("--wait-for-ci", is_flag=True, help="run the tests first; deploy only a green run")
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="a file holding an access token for a private https repository (or set HOIST_REPO_TOKEN)")
@click.option("--deploy-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="an SSH private key with read access (a deploy key) for a private ssh repository")
@click.option("--poll", type=float, default=None, help="seconds between fetches when no webhook arrives")
@pass_ctx
def apps_connect(c: CliContext, git_url: str, branch: str, wait_for_ci: bool, token_file: str | None,
                 deploy_key: str | None, poll: float | None) -> None:
    """Deploy each new commit of BRANCH of GIT_URL: on a GitHub/GitLab webhook, and by polling."""
    app = c.app()
    body: dict[str, Any] = {"repo_url": git_url, "branch": branch, "wait_for_ci": wait_for_ci,
                            "credential": _credential(token_file, deploy_key), "poll_interval": poll}
    got = c.client().post(f"/apps/{app}/repo-connection", body)
    click.echo(f"Connected {app} to {got['repo_url']} (branch {got['branch']}"
               + (", waiting for CI" if got["wait_for_ci"] else "") + "). Fetching it and deploying its head now.")
    click.echo(f"Webhook URL:    {got['webhook_url']}")
    click.echo(f"Webhook secret: {got['webhook_secret']}")
    click.echo("  (shown only now) GitHub: content type application/json, this secret, the push event. "
               "GitLab: this as the secret token, push events.")
    click.echo(f"Without a webhook hoist fetches every {got['poll_interval']:g} s. "
               f"See how it goes: hoist apps:connection -a {app}")


@click.command("apps:connection")
@app_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def apps_connection(c: CliContext, as_json: bool) -> None:
    """Show the connected repository: branch, what was last seen and deployed, and the last error."""
    app = c.app()
    got = c.client().get(f"/apps/{app}/repo-connection")
    if as_json:
        click.echo(json.dumps(got, indent=2))
        return
    header(f"{app} deploys from {got['repo_url']}")
    cred = got["credential"]
    keyvals([("Branch", got["branch"]), ("Wait for CI", "yes" if got["wait_for_ci"] else "no"),
             ("Credential", f"{cred['kind']} {cred['value']}" if cred["kind"] else "none"),
             ("Webhook URL", got["webhook_url"]), ("Poll every", f"{got['poll_interval']:g} s"),
             ("Last checked", got["checked_at"]), ("Branch head", got["last_seen_commit"]),
             ("Deployed", got["last_deployed_commit"]), ("Last deploy", got["last_status"]),
             ("Error", got["last_error"])])
    if got["deploys"]:
        click.echo()
        table(["Commit", "Status", "Why"], [[d["commit"][:8], d["status"], d["message"] or ""] for d in got["deploys"]])


@click.command("apps:disconnect")
@app_option
@pass_ctx
def apps_disconnect(c: CliContext) -> None:
    """Stop deploying from the connected repository (the running release stays)."""
    app = c.app()
    got = c.client().delete(f"/apps/{app}/repo-connection")
    click.echo(f"Disconnected {app} from {got['repo_url']}; the running release stays.")


COMMANDS = [apps_connect, apps_connection, apps_disconnect]
