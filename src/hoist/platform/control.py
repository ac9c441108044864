"""Platform: the control plane's operations in one place, over the parts of this package.

The API, the dashboard and the push pipeline act through this object, so every change of
desired state goes through the same few functions: each config change or deploy makes a
release (releases.py), each release reaches the supervisor, and each change of what the
router must know is published (publish.py). `server.py` builds the parts it needs first
(the route publisher, releases, add-ons) and hands them over; the rest are built here."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from hoist.contracts.release import RunRelease
from hoist.dynos.isolation import Isolation
from hoist.dynos.runtime import Dyno
from hoist.dynos.supervisor import DeployResult, Supervisor
from hoist.logs.drains import Drains
from hoist.logs.store import LogStore
from hoist.paths import Paths
from hoist.platform import addresses
from hoist.platform.access import Access, audit
from hoist.platform.acm import AcmeStatus
from hoist.platform.addons import AddonManager
from hoist.platform.apps import Apps
from hoist.platform.capability import UrlSigner
from hoist.platform.certs import Certs
from hoist.platform.dataclips import Dataclips
from hoist.platform.domains import Domains
from hoist.platform.drains import DrainManager
from hoist.platform.formation import Formation
from hoist.platform.metrics import MetricsRecorder
from hoist.platform.nodes import Nodes
from hoist.platform.pipelines import Pipelines
from hoist.platform.promote import Promotions
from hoist.platform.publish import RoutePublisher
from hoist.platform.releases import Releases
from hoist.platform.sources import Sources
from hoist.platform.users import Users
from hoist.settings import Settings
from hoist.state import collaborators as collaborators_t
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.state.releases import Release
from hoist.state.users import User
from hoist.logs.line import PLATFORM


class Platform:
    def __init__(self, settings: Settings, paths: Paths, db: Database, logs: LogStore, supervisor: Supervisor, *,
                 routes: RoutePublisher, releases: Releases, addons: AddonManager, isolation: Isolation | None,
                 acme: AcmeStatus, wake_secret: str, drains: Drains) -> None:
        self.settings = settings
        self.paths = paths
        self.db = db
        self.logs = logs
        self.supervisor = supervisor
        self.routes = routes
        self.releases = releases
        self.addons = addons
        self.isolation = isolation  # per-app users when hoist runs as root; None otherwise
        self.acme = acme
        self.wake_secret = wake_secret  # the router's key to POST /internal/wake/APP
        self.internal_url = routes.platform_url  # the control plane's private address (the git hook calls it)
        self.signer = UrlSigner(paths.url_key)
        self.sources = Sources(settings, paths, self.signer)  # POST /sources, and the source_blob URLs builds get
        self.access = Access(db)
        self.certs = Certs(paths, db, self.publish_routes)
        self.domains = Domains(settings, db, self.publish_routes, acme)
        self.formation = Formation(db, logs, supervisor, releases)
        self.apps = Apps(paths, db, logs, supervisor, releases, addons, isolation, self.publish_routes)
        self.dataclips = Dataclips(settings, db, addons)
        self.users = Users(db)
        self.nodes = Nodes(supervisor)  # hoist nodes, nodes:drain (admin)
        self.metrics = MetricsRecorder(db, self._dyno_snapshot)  # the dashboard's charts; server.py runs it
        self.pipelines = Pipelines(db, logs, self.access)
        self.promotions = Promotions(db, paths, isolation, self.access, self.pipelines, releases)
        self.drains = DrainManager(db, logs, drains)

    # ----- addresses -----

    def web_url(self, app: str) -> str:
        return addresses.web_url(self.settings, app)

    def git_url(self, app: str) -> str:
        return addresses.git_url(self.settings, app)

    def publish_routes(self) -> None:
        """Write the routing table from the supervisor's view and tell the router."""
        self.routes.publish(self.supervisor.web_backends())

    # ----- the router -----

    def router_started(self, pid: int) -> None:
        """The router listens (again): it gets the current table."""
        self.routes.router_started(pid)
        self.publish_routes()

    def router_request(self, app: str, message: str) -> None:
        """The router served a request for `app`: its line goes to the app's log, and the app is not idle."""
        if app in self.supervisor.apps:
            self.logs.emit(app, PLATFORM, "router", message)
            self.supervisor.note_request(app)
            self.metrics.request(app, message)

    def _dyno_snapshot(self) -> dict[str, list[tuple[str, str, float | None]]]:
        """Each app's running dynos (name, process id, memory MB) for the metrics recorder."""
        return {name: [(d.name, d.id, d.memory_mb) for d in rt.dynos.values() if d.proc is not None]
                for name, rt in list(self.supervisor.apps.items())}

    # ----- access -----

    def find_app(self, user: User, name_or_id: str) -> App:
        return self.access.find_app(user, name_or_id)

    def can_access(self, user: User, app: App) -> bool:
        return self.access.can_access(user, app)

    def can_manage(self, user: User, app: App) -> bool:
        return self.access.can_manage(user, app)

    def visible_apps(self, user: User) -> list[App]:
        return self.access.visible_apps(user)

    def add_collaborator(self, app: App, actor: User, email: str) -> collaborators_t.Collaborator:
        return self.access.add_collaborator(app, actor, email)

    def remove_collaborator(self, app: App, actor: User, email: str) -> collaborators_t.Collaborator:
        return self.access.remove_collaborator(app, actor, email)

    def transfer(self, app: App, actor: User, email: str, keep_previous: bool = True) -> tuple[App, User, User]:
        return self.access.transfer(app, actor, email, keep_previous)

    def audit(self, app: App, user: User | str, action: str, detail: str = "") -> None:
        audit(self.db, app, user, action, detail)

    # ----- apps -----

    def create_app(self, user: User, name: str | None) -> App:
        return self.apps.create(user, name)

    async def destroy_app(self, app: App) -> list[str]:
        """Destroy the app; returns what could not be cleaned up (each says what to do)."""
        self.drains.forget_app(app)
        return await self.apps.destroy(app)

    def set_maintenance(self, app: App, on: bool, user: User) -> None:
        self.apps.set_maintenance(app, on, user)

    def restore_all(self) -> int:
        return self.apps.restore_all()

    # ----- releases and config -----

    def run_release(self, app: App, rel: Release) -> RunRelease | None:
        return self.releases.run_release(app, rel)

    def current_run(self, app: App) -> RunRelease | None:
        """The app's current release as the dynos run it; None before the first push."""
        return self.releases.current(app)

    async def release(
        self, app: App, *, slug_id: str | None, config: Mapping[str, str], description: str, user: User,
        out: Callable[[str], None] = lambda s: None,
    ) -> tuple[Release, DeployResult]:
        return await self.releases.release(app, slug_id=slug_id, config=config, description=description,
                                           user=user, out=out)

    async def set_config(self, app: App, changes: Mapping[str, str | None], user: User,
                         description: str | None = None) -> tuple[dict[str, str], Release, DeployResult]:
        return await self.releases.set_config(app, changes, user, description)

    async def rollback(self, app: App, target: Release, user: User) -> tuple[Release, DeployResult]:
        return await self.releases.rollback(app, target, user)

    # ----- formation, sleep and dynos -----

    async def scale(self, app: App, updates: Mapping[str, int], user: User) -> None:
        await self.formation.scale(app, updates, user)

    def set_sleep(self, app: App, enabled: bool, user: User) -> None:
        self.formation.set_sleep(app, enabled, user)

    async def restart(self, app: App, user: User, target: str | None = None) -> int:
        return await self.formation.restart(app, user, target)

    async def stop(self, app: App, user: User, target: str) -> int:
        return await self.formation.stop(app, user, target)

    async def wake(self, app: str) -> bool:
        return await self.formation.wake(app)

    def dynos(self, app: App) -> list[Dyno]:
        return self.formation.dynos(app)

    def asleep(self, app: App) -> bool:
        return self.formation.asleep(app)
