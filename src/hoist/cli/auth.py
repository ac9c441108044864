"""login, logout, auth:token, auth:whoami. Credentials go to ~/.netrc for the
API host, so plain `git push` to the same host authenticates too."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import click

from hoist.cli.client import Client
from hoist.cli.context import CliContext, netrc_token
from hoist.cli.discover import local_servers
from hoist.cli.errors import HoistError
from hoist.cli.options import pass_ctx
from hoist.paths import Paths
from hoist.settings import Settings


def netrc_path() -> Path:
    return Path(os.environ.get("NETRC") or Path.home() / ".netrc")


def update_netrc(text: str, host: str, login: str, password: str) -> str:
    """Replace (or add) the `machine HOST` entry; keep every other entry. Pure."""
    kept = remove_netrc_entry(text, host).rstrip("\n")
    return (kept + "\n" if kept else "") + f"machine {host}\n  login {login}\n  password {password}\n"


def remove_netrc_entry(text: str, host: str) -> str:
    """Drop the `machine HOST` entry; keep every other entry. Pure."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["machine"]:
            skipping = len(words) > 1 and words[1] == host
        elif words[:1] == ["default"]:
            skipping = False
        if not skipping:
            out.append(line)
    kept = "\n".join(out).strip()
    return kept + "\n" if kept else ""


def write_netrc(host: str, login: str, token: str) -> Path:
    path = netrc_path()
    old = path.read_text() if path.exists() else ""
    return _save_netrc(path, update_netrc(old, host, login, token))


def _save_netrc(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def password_login(api_url: str, email: str, password: str) -> str:
    """Trade email + password for a new API token (POST /oauth/authorizations with Basic auth)."""
    import httpx

    try:
        resp = httpx.post(api_url.rstrip("/") + "/oauth/authorizations", auth=(email, password), timeout=60,
                          json={"description": f"hoist CLI login on {socket.gethostname()}"},
                          headers={"Accept": "application/vnd.heroku+json; version=3"})
    except httpx.HTTPError as exc:
        raise HoistError(f"cannot reach the hoist API at {api_url}: {exc}") from None
    if resp.status_code != 201:
        try:
            message = resp.json().get("message", resp.text)
        except ValueError:
            message = resp.text
        raise HoistError(f"login failed: {message}")
    return str(resp.json()["access_token"]["token"])


def local_admin_token(api_url: str) -> Path | None:
    """The admin token of the hoist server at `api_url` when it runs on this machine and this user can read it."""
    parts = urlsplit(api_url)
    if parts.hostname not in ("localhost", "127.0.0.1"):
        return None
    homes = [s.home for s in local_servers() if s.port == (parts.port or 80)] + [Settings.load().home]
    for home in homes:
        token = Paths(home).admin_token
        if token.exists() and os.access(token, os.R_OK):
            return token
    return None


def reach(api_url: str) -> None:
    """Fail fast, before asking for anything, when no hoist server answers at `api_url`."""
    import httpx

    try:
        httpx.get(api_url.rstrip("/") + "/", timeout=5)
        return
    except httpx.HTTPError:
        pass
    if os.environ.get("HOIST_API_URL") or os.environ.get("HOIST_PORT"):
        raise HoistError(f"no hoist server answers at {api_url}; check HOIST_API_URL (or HOIST_PORT), or start "
                         "the server with `hoist server`")
    running = ", ".join(f"{s.url} (home {s.home})" for s in local_servers())
    found = f"hoist servers run here at {running}: pick one with" if running else \
        "no hoist server runs on this machine that this user can see: start one with `hoist server`, or set"
    raise HoistError(f"no hoist server answers at {api_url}; {found} HOIST_API_URL=http://localhost:PORT (or "
                     "HOIST_PORT=PORT), and HOIST_HOME=its home to log in with its admin token")


@click.command("login")
@click.option("--token", help="an API token (default: ask, or use this machine's admin token if readable)")
@click.option("--email", help="log in with this email and a password (asked for)")
@pass_ctx
def login(c: CliContext, token: str | None, email: str | None) -> None:
    """Log in to a hoist server: stores a token in ~/.netrc for the API host."""
    reach(c.api_url)
    if email and not token:
        token = password_login(c.api_url, email, click.prompt("Password", hide_input=True, err=True))
    if not token:
        local = local_admin_token(c.api_url)
        if local is not None:
            token = local.read_text().strip()
            click.echo(f"Using the admin token of the local hoist server ({local}).")
        else:
            email = click.prompt("Email", err=True).strip()
            token = password_login(c.api_url, email, click.prompt("Password", hide_input=True, err=True))
    try:
        account = Client(c.api_url, token).get("/account")
    except HoistError as exc:
        raise HoistError(f"login failed: {exc.message}") from None
    host = urlsplit(c.api_url).hostname or "localhost"
    path = write_netrc(host, account["email"], token)
    click.echo(f"Logged in as {account['email']} (token saved in {path} for {host}; git push uses it too)")


@click.command("logout")
@pass_ctx
def logout(c: CliContext) -> None:
    """Log out: remove the API host's token from ~/.netrc (git push stops authenticating too)."""
    host = urlsplit(c.api_url).hostname or "localhost"
    path = netrc_path()
    old = path.read_text() if path.exists() else ""
    click.echo("Logging out... ", nl=False)
    new = remove_netrc_entry(old, host)
    if new != old:
        _save_netrc(path, new)
    click.echo("done")
    if os.environ.get("HOIST_API_KEY"):
        click.echo("HOIST_API_KEY is still set in this shell and keeps working: unset it too.")


@click.command("auth:whoami")
@pass_ctx
def whoami(c: CliContext) -> None:
    """Print the email of the logged-in user."""
    click.echo(c.client().get("/account")["email"])


@click.command("auth:token")
@pass_ctx
def auth_token(c: CliContext) -> None:
    """Print the current API token."""
    token = c.token or netrc_token(c.api_url)
    if not token:
        raise HoistError("not logged in: run `hoist login`")
    click.echo(token)


COMMANDS = [login, logout, whoami, auth_token]
