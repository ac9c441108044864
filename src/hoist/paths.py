"""Where things live under HOIST_HOME. One function per kind of thing."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from hoist import names

APP_IDS = ".ids"  # apps/.ids/ID: where an app's files are; apps/NAME links there (no app name starts with a dot)
_LINK_RE = re.compile(r"^\.ids/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Paths:
    home: Path
    pythons_dir: Path | None = None  # HOIST_PYTHONS: where the interpreter mirror lives, if not under home

    @property
    def db(self) -> Path:
        return self.home / "hoist.db"

    @property
    def admin_token(self) -> Path:
        return self.home / "admin-token"

    @property
    def url_key(self) -> Path:
        """The key that signs capability URLs (platform/capability.py)."""
        return self.home / "url-key"

    @property
    def lock(self) -> Path:
        return self.home / "server.lock"

    @property
    def server_info(self) -> Path:
        """JSON with the running server's pid and public ports (mode 0600: hoist's alone)."""
        return self.home / "server.json"

    @property
    def internal_api(self) -> Path:
        """The control plane's Unix socket: the router and the git hook reach the API through it, nothing else."""
        return self.run_dir / "api.sock"

    @property
    def wake_secret(self) -> Path:
        """The router's key to POST /internal/wake/APP (kept across restarts: an adopted router has it)."""
        return self.run_dir / "wake-secret"

    @property
    def uv_cache(self) -> Path:
        return self.home / "cache" / "uv"

    @property
    def pythons(self) -> Path:
        """Interpreters mirrored where per-app users can run them (see dynos/pythons.py)."""
        return self.pythons_dir or self.home / "pythons"

    @property
    def routes(self) -> Path:
        return self.home / "router" / "routes.json"

    @property
    def postgres(self) -> Path:
        return self.home / "postgres"

    @property
    def rabbitmq(self) -> Path:
        """hoist's RabbitMQ node (the AMQP add-ons): config, data, logs, the node user's HOME."""
        return self.home / "rabbitmq"

    @property
    def tls(self) -> Path:
        """The local CA and the certificates hoist serves."""
        return self.home / "tls"

    @property
    def sources(self) -> Path:
        """Source tarballs uploaded to `POST /sources` put_urls (and fetched ones, while they unpack)."""
        return self.home / "sources"

    @property
    def run_dir(self) -> Path:
        """Records and shim sockets of what runs (dynos/, kept/: the router, the TLS front), so a restarted hoist
        adopts it; the internal API's socket. Root-only (0700)."""
        return self.home / "run"

    @property
    def apps(self) -> Path:
        return self.home / "apps"

    def app_link(self, app: str) -> Path:
        """apps/NAME: the symlink by which an app's directory is reached (see `app`)."""
        return self.apps / names.app_name(app)

    def app_by_id(self, app_id: str) -> Path:
        """apps/.ids/ID: an app's directory itself."""
        if not _LINK_RE.match(f"{APP_IDS}/{app_id}"):
            raise ValueError(f"{app_id!r} is not an app id")
        return self.apps / APP_IDS / app_id

    def app(self, app: str) -> Path:
        """The app's directory: apps/.ids/ID, reached through the link apps/NAME. Every path hoist hands
        to a build or a dyno is under it, so a rename (which only moves the link) moves no file and no
        running process loses a path. An app from before this layout is apps/NAME itself until hoist
        starts again (app_dirs.adopt)."""
        link = self.app_link(app)
        try:
            target = os.readlink(link)
        except OSError:  # not a link: not created yet, or from before
            return link
        return self.apps / target if _LINK_RE.match(target) else link

    def repo(self, app: str) -> Path:
        return self.app(app) / "repo.git"

    def slugs(self, app: str) -> Path:
        return self.app(app) / "slugs"

    def slug(self, app: str, slug_id: str) -> Path:
        return self.slugs(app) / slug_id

    def builds(self, app: str) -> Path:
        return self.app(app) / "builds"

    def build_log(self, app: str, build_id: str) -> Path:
        return self.builds(app) / f"{build_id}.log"

    def release_log(self, app: str, release_id: str) -> Path:
        """The release phase's output for one release (`releases:output`)."""
        return self.builds(app) / f"release-{release_id}.log"  # ids come from the database, never from a URL

    def buildpacks(self, app: str) -> Path:
        """The buildpacks set for the app (`buildpacks:set`); absent: detected at build."""
        return self.app(app) / "buildpacks.json"

    def logs(self, app: str) -> Path:
        return self.app(app) / "logs"
