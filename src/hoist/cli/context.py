"""Where the CLI finds its API, its token and the app it acts on."""
from __future__ import annotations

import json
import netrc
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hoist.cli.client import Client
from hoist.cli.discover import local_servers
from hoist.cli.errors import HoistError
from hoist.settings import Settings

_GIT_URL_RE = re.compile(r"/([a-z][a-z0-9-]{1,28}[a-z0-9])\.git/?$")


def default_api_url() -> str:
    """HOIST_API_URL; else HOIST_PORT on this machine; else the one hoist server running here; else port 5000."""
    if os.environ.get("HOIST_API_URL"):
        return os.environ["HOIST_API_URL"]
    settings = Settings.load()
    if os.environ.get("HOIST_PORT"):
        return f"http://localhost:{settings.port}"
    servers = local_servers()
    mine = [s for s in servers if s.home == settings.home] or servers
    return mine[0].url if len(mine) == 1 else f"http://localhost:{settings.port}"


def netrc_token(api_url: str, path: Path | None = None) -> str | None:
    host = urlsplit(api_url).hostname or "localhost"
    path = path or Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    try:
        auth = netrc.netrc(str(path)).authenticators(host)
    except (FileNotFoundError, netrc.NetrcParseError):
        return None
    return auth[2] if auth else None


def app_from_git_url(url: str) -> str | None:
    """`http://localhost:5000/notes.git` -> `notes`."""
    m = _GIT_URL_RE.search(url.strip())
    return m.group(1) if m else None


def app_from_git_remote(remote: str = "hoist") -> str | None:
    try:
        out = subprocess.run(["git", "remote", "get-url", remote], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return app_from_git_url(out.stdout) if out.returncode == 0 else None


def hoist_remotes(remote_v: str, api_url: str) -> dict[str, str]:
    """From `git remote -v` output: remote name -> app, for remotes on the API's host. Pure."""
    host = urlsplit(api_url).hostname
    found: dict[str, str] = {}
    for line in remote_v.splitlines():
        words = line.split()
        if len(words) >= 2 and urlsplit(words[1]).hostname == host and (app := app_from_git_url(words[1])):
            found[words[0]] = app
    return found


def git_remotes(api_url: str) -> dict[str, str]:
    """The current repo's remotes that point at apps on this hoist (empty outside a repo)."""
    try:
        out = subprocess.run(["git", "remote", "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return hoist_remotes(out.stdout, api_url) if out.returncode == 0 else {}


@dataclass
class CliContext:
    api_url: str
    app_flag: str | None = None

    @property
    def token(self) -> str | None:
        return os.environ.get("HOIST_API_KEY") or netrc_token(self.api_url)

    def client(self) -> Client:
        token = self.token
        if not token:
            raise HoistError("not logged in: run `hoist login`, or set HOIST_API_KEY to an API token.")
        return Client(self.api_url, token)

    def app(self) -> str:
        name = self.app_flag or os.environ.get("HOIST_APP") or app_from_git_remote()
        if not name:
            # Like heroku's CLI: a repo whose remote has another name (`heroku`) still names its app.
            remotes = git_remotes(self.api_url)
            if len(set(remotes.values())) == 1:
                return next(iter(remotes.values()))
            if remotes:
                listed = ", ".join(f"{r}: {a}" for r, a in sorted(remotes.items()))
                raise HoistError(f"several git remotes point at hoist apps ({listed}); pass -a APP to pick one.")
        if not name:
            raise HoistError("no app given: pass -a APP, or run this inside a git repo whose `hoist` remote "
                             "points at the app (see `hoist git:remote -a APP`).")
        return name


def pretty(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=True)
