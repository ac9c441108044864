"""How the release a command made went (config:set, addons:create, rollback, pg:promote, ...): a failed
release is an error (exit status 1) with its report; a release that is live while its web dyno crashes
at boot is a warning. The API says so in Hoist-Release-* headers; the report is the release's output."""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import click

from hoist.cli.client import Client
from hoist.cli.errors import HoistError

REPORT_LINES = 40  # the end of a long release phase's output is what matters


def release_report(client: Client, app: str, version: str) -> list[str]:
    """The release's output (what its release phase printed, then why it failed), its last lines."""
    try:
        rel = client.get(f"/apps/{app}/releases/{version.lstrip('v')}")
        url = rel.get("output_stream_url")
        if not url:
            return []
        text = client.request("GET", urlsplit(url).path).text
    except HoistError:
        return []
    return [line for line in text.splitlines() if line.strip()][-REPORT_LINES:]


def check_release(client: Client, app: str, headers: Mapping[str, str]) -> None:
    """Raise (exit 1) if the release the response names failed; warn if it is live but crashing."""
    lower = {k.lower(): v for k, v in headers.items()}
    version = lower.get("hoist-release", "")
    if "hoist-release-message" in lower:
        click.echo("failed")
        report = release_report(client, app, version) if version else []
        for line in report:
            click.echo(line, err=True)
        what = f"release {version}" if version else "the new release"
        raise HoistError(f"{what} failed: {lower['hoist-release-message']}" if not report else
                         f"{what} failed (see above)")
    if "hoist-release-warning" in lower:
        click.echo(f"done, {version}")
        report = release_report(client, app, version) if version else []
        for line in report or [f" !     {lower['hoist-release-warning']}"]:
            click.echo(line, err=True)
        return
