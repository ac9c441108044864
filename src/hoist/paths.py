"""Where things live under HOIST_HOME. One function per kind of thing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hoist import names


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
        """JSON with the running server's ports; read by hooks and tools on this machine."""
        return self.home / "server.json"

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
    def run_dir(self) -> Path:
        """Pid files of running dynos, so a restarted hoist can clean up after a kill -9."""
        return self.home / "run"

    def app(self, app: str) -> Path:
        return self.home / "apps" / names.app_name(app)

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
