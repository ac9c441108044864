"""The hoist servers running on this machine, for a terminal that was not told where one is.

A running `hoist server` writes HOIST_HOME/server.json (its pid and port). A second terminal
usually has neither HOIST_HOME nor HOIST_PORT, and the server may run on another port or home
(`hoist server --port 5001 --home /srv/hoist`, or as root in /var/lib/hoist): the homes this user
would use are read first, then the running `hoist server` processes this user may see are asked
for theirs (their --home argument or HOIST_HOME)."""
from __future__ import annotations

import json
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from hoist.settings import Settings

ROOT_HOME = Path("/var/lib/hoist")


@dataclass(frozen=True)
class LocalServer:
    home: Path
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def admin_token(self) -> Path:
        return self.home / "admin-token"


def read_server(home: Path) -> LocalServer | None:
    """The server running with this home, from its server.json (None: none runs, or it is not readable)."""
    try:
        info = json.loads((home / "server.json").read_text())
        pid, port = int(info["pid"]), int(info["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not Path(f"/proc/{pid}").exists():
        return None  # a server killed with -9 leaves its server.json behind
    return LocalServer(home, port, pid)


def server_argv_home(argv: list[str], cwd: Path, environ: dict[str, str], uid: int) -> Path | None:
    """The home of a `hoist server` process from its argv and environment (None: not a hoist server). Pure."""
    try:
        at = argv.index("server")
    except ValueError:
        return None
    if not any(Path(a).name == "hoist" or a == "hoist" for a in argv[:at]):
        return None
    for i, arg in enumerate(argv[at + 1:], start=at + 1):
        if arg == "--home" and i + 1 < len(argv):
            return cwd / argv[i + 1]
        if arg.startswith("--home="):
            return cwd / arg.split("=", 1)[1]
    if environ.get("HOIST_HOME"):
        return cwd / environ["HOIST_HOME"]
    if uid == 0:
        return ROOT_HOME
    base = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME") or _home_of(uid)) / ".local" / "share")
    return Path(base) / "hoist"


def _home_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return "/"


def _running_homes() -> list[Path]:
    """Homes of the `hoist server` processes this user can look into."""
    homes: list[Path] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            if b"hoist" not in raw or b"server" not in raw:
                continue
            argv = [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]
            environ = dict(kv.decode(errors="replace").partition("=")[::2]
                           for kv in (entry / "environ").read_bytes().split(b"\0") if b"=" in kv)
            home = server_argv_home(argv, Path(os.readlink(entry / "cwd")), environ, entry.stat().st_uid)
        except OSError:
            continue
        if home is not None:
            homes.append(home)
    return homes


def local_servers() -> list[LocalServer]:
    """Every hoist server found on this machine, the ones this user's settings point at first."""
    settings_home = Settings.load().home
    found: dict[int, LocalServer] = {}
    for home in [settings_home, ROOT_HOME]:
        server = read_server(home)
        if server is not None:
            found.setdefault(server.port, server)
    if not found:
        for home in _running_homes():
            server = read_server(home)
            if server is not None:
                found.setdefault(server.port, server)
    return list(found.values())
