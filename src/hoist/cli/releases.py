"""releases, releases:info, releases:output, rollback."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import click

from hoist.cli.client import Client
from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.outcome import check_release
from hoist.cli.output import header, keyvals, table


@click.command("releases")
@app_option
@click.option("-n", "--num", default=15, show_default=True, help="how many releases to show")
@pass_ctx
def releases(c: CliContext, num: int) -> None:
    """List the app's releases, newest first."""
    app = c.app()
    rels = c.client().request("GET", f"/apps/{app}/releases",
                              headers={"Range": f"version ..; order=desc, max={num}"}).json()
    header(f"{app} Releases")
    rows = []
    for r in rels:
        # A release that did not boot says so in its description ("... (not deployed: web.1 exited ...)").
        flag = " (current)" if r["current"] else (" (release command failed)" if r["status"] == "failed" else "")
        rows.append((f"v{r['version']}", r["description"] + flag, r["user"]["email"] or "", r["created_at"]))
    table(["Version", "Description", "User", "Created"], rows)


@click.command("releases:info")
@app_option
@click.argument("release", required=False)
@pass_ctx
def releases_info(c: CliContext, release: str | None) -> None:
    """Show one release (default: the newest)."""
    app = c.app()
    r = _one_release(c.client(), app, release)
    header(f"Release v{r['version']}")
    keyvals([("By", r["user"]["email"]), ("Change", r["description"]), ("When", r["created_at"]),
             ("Status", r["status"]), ("Current", "yes" if r["current"] else "no")])


def _one_release(client: Client, app: str, release: str | None) -> dict[str, Any]:
    """The release named `release` (a version, `vN` or id), or the newest one."""
    if release is not None:
        found: dict[str, Any] = client.get(f"/apps/{app}/releases/{release.lstrip('v')}")
        return found
    rels = client.request("GET", f"/apps/{app}/releases", headers={"Range": "version ..; order=desc,max=1"}).json()
    if not rels:
        raise HoistError(f"{app} has no releases yet; push code with `git push hoist main`")
    newest: dict[str, Any] = rels[0]
    return newest


@click.command("releases:output")
@app_option
@click.argument("release", required=False)
@pass_ctx
def releases_output(c: CliContext, release: str | None) -> None:
    """Show what the release phase (Procfile `release:`) printed for a release (default: the newest)."""
    app = c.app()
    client = c.client()
    r = _one_release(client, app, release)
    url = r.get("output_stream_url")
    if not url:
        raise HoistError(f"release v{r['version']} has no release output: only releases of an app whose "
                         "Procfile has a `release:` process run a release phase")
    # The URL names the host the server knows itself by; ask the API this CLI already talks to.
    click.echo(client.request("GET", urlsplit(url).path).text, nl=False)


@click.command("rollback")
@app_option
@click.argument("release", required=False)
@pass_ctx
def rollback(c: CliContext, release: str | None) -> None:
    """Roll back to a release (default: the one before the current one)."""
    app = c.app()
    client = c.client()
    if release is None:
        rels = client.get_all(f"/apps/{app}/releases")
        good = [r for r in sorted(rels, key=lambda r: r["version"], reverse=True) if r["eligible_for_rollback"]]
        if len(good) < 2:
            raise HoistError("there is no earlier release to roll back to")
        release = str(good[1]["version"])
    target = release.lstrip("v")
    click.echo(f"Rolling back {app} to v{target}... ", nl=False)
    resp = client.request("POST", f"/apps/{app}/releases", json={"release": target})
    r = resp.json()
    check_release(client, app, resp.headers)
    if "hoist-release-warning" not in resp.headers:
        click.echo(f"done, v{r['version']}")


COMMANDS = [releases, releases_info, releases_output, rollback]
