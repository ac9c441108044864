"""Releases: every deploy, config change and rollback makes release vN here, and each release
reaches the supervisor here. A release that cannot start is marked failed; the old one keeps serving."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from hoist.contracts.release import RunRelease
from hoist.dynos.supervisor import DeployResult, Supervisor
from hoist.logs.store import LogStore
from hoist.paths import Paths
from hoist.platform.access import audit
from hoist.platform.boot_hints import hints, module_versions
from hoist.platform.boot_report import one_line, report, short_reason
from hoist.platform.errors import PlatformError
from hoist.platform.configcheck import check_change
from hoist.platform.publish import RoutePublisher
from hoist.platform.release_output import release_output
from hoist.state import apps as apps_t
from hoist.state import config as config_t
from hoist.state import formation as formation_t
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.db import Database, utcnow
from hoist.state.releases import Release
from hoist.state.users import User
from hoist.logs.line import PLATFORM


class Releases:
    def __init__(self, paths: Paths, db: Database, logs: LogStore, supervisor: Supervisor,
                 routes: RoutePublisher) -> None:
        self.paths = paths
        self.db = db
        self.logs = logs
        self.supervisor = supervisor
        self.routes = routes

    def audit(self, app: App, user: User | str, action: str, detail: str = "") -> None:
        audit(self.db, app, user, action, detail)

    # ----- a release as the dynos run it -----

    def run_release(self, app: App, rel: Release) -> RunRelease | None:
        """What the supervisor runs for `rel`; None while it has no slug (nothing pushed yet)."""
        if rel.slug_id is None:
            return None
        slug = releases_t.get_slug(self.db, rel.slug_id)
        if slug is None:
            return None
        return RunRelease(
            id=rel.id, version=rel.version, process_types=slug.process_types,
            slug_dir=self.paths.slug(app.name, slug.id),
            env_dir=Path(slug.env_dir) if slug.env_dir else None, config=rel.config,
            health_path=slug.app_json.web_health_path if slug.app_json else None,
        )

    def current(self, app: App) -> RunRelease | None:
        """The app's current release as the dynos run it; None before the first push."""
        rel = releases_t.current_release(self.db, app.id)
        return self.run_release(app, rel) if rel else None

    # ----- making releases -----

    async def release(
        self, app: App, *, slug_id: str | None, config: Mapping[str, str], description: str, user: User,
        out: Callable[[str], None] = lambda s: None,
    ) -> tuple[Release, DeployResult]:
        """Create release vN and make it current. One that does not start while the app serves is not deployed
        (the old one keeps serving): `failed` if its release phase failed, `expired` if it did not boot."""
        async with self.supervisor.lock(app.name):
            app = apps_t.get_app(self.db, app.id) or app  # renamed while this waited: the new name
            rel = releases_t.create_release(self.db, app.id, slug_id=slug_id, config=config,
                                            description=description, user_id=user.id)
            run = self.run_release(app, rel)
            if run is None:
                result = DeployResult(True, "no slug yet: nothing to start")
            else:
                self.logs.emit(app.name, PLATFORM, "api", f"Release v{rel.version} starting")
                with release_output(self.paths.release_log(app.name, rel.id), run, out) as tee:
                    result = await self.supervisor.deploy(app.name, run, formation_t.quantities(self.db, app.id),
                                                          tee)
            status = "succeeded" if result.ok else "failed" if result.failure == "release" else "expired"
            why = f"{description} (not deployed: {short_reason(result)})" if status == "expired" else None
            releases_t.set_release_status(self.db, rel.id, status, why)
            self.audit(app, user, "release", f"v{rel.version} {status}: {why or description}")
            if result.ok:
                apps_t.update_app(self.db, app.id, released_at=utcnow())
                self.logs.emit(app.name, "app", "api", f"Release v{rel.version} created by user {user.email}")
            else:
                self.logs.emit(app.name, "app", "api",
                               f"Release v{rel.version} failed: {result.message}")
            if result.failure:
                self._keep_report(app, rel, result)
        self.routes.publish(self.supervisor.web_backends())
        final = releases_t.get_release(self.db, app.id, rel.id)
        assert final is not None
        return final, result

    def report(self, app: App, rel: Release, result: DeployResult, *, lines_shown: bool = False) -> list[str]:
        """What failed in `rel`, what to do, and the failed dyno's last lines (boot_report.py)."""
        run = self.run_release(app, rel)
        found = hints(result.lines, rel.config, module_versions(run.env_dir if run else None))
        previous = releases_t.current_release(self.db, app.id)
        return report(rel.version, previous.version if previous else None, result, found, lines_shown=lines_shown)

    def summary(self, app: App, rel: Release, result: DeployResult) -> str:
        """The report in one line (an API header)."""
        run = self.run_release(app, rel)
        return one_line(result, hints(result.lines, rel.config, module_versions(run.env_dir if run else None)))

    def _keep_report(self, app: App, rel: Release, result: DeployResult) -> None:
        """After the release phase's own output (if any), for `releases:output`; a full disk loses only this."""
        self._append_output(app, rel, self.report(app, rel, result, lines_shown=result.failure == "release"))

    def _append_output(self, app: App, rel: Release, lines: list[str]) -> None:
        try:
            with self.paths.release_log(app.name, rel.id).open("a", encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in lines))
        except OSError:
            pass

    def _slug_of_current(self, app: App) -> str | None:
        cur = releases_t.latest_slug_release(self.db, app.id)
        return cur.slug_id if cur else None

    async def set_config(self, app: App, changes: Mapping[str, str | None], user: User,
                         description: str | None = None) -> tuple[dict[str, str], Release, DeployResult]:
        """Set (a value) and unset (None) config vars: a new release with the current slug. The stored config
        changes only if that release goes live (the database stores its config with its status: state/
        migrations.py, 7); one that fails changes nothing, and its message names the keys that made it fail."""
        config = check_change(config_t.get_config(self.db, app.id), changes)
        set_keys = [k for k, v in changes.items() if v is not None]
        removed = [k for k, v in changes.items() if v is None]
        parts = []
        if set_keys:
            parts.append(f"Set {', '.join(set_keys)} config vars")
        if removed:
            parts.append(f"Remove {', '.join(removed)} config vars")
        description = description or "; ".join(parts) or "Config vars unchanged"
        rel, result = await self.release(app, slug_id=self._slug_of_current(app), config=config,
                                         description=description, user=user)
        if not result.ok:
            what = " and ".join(p for p in (", ".join(set_keys) and f"{', '.join(set_keys)} set",
                                            ", ".join(removed) and f"{', '.join(removed)} unset") if p)
            unchanged = f"The release with {what} failed, so nothing changed: the config is as before. " \
                        "Fix the value and try again"
            result = replace(result, message=f"{result.message}. {unchanged}")
            self._append_output(app, rel, [f" !     {unchanged}."])  # the report the CLIs print ends with it
        return config_t.get_config(self.db, app.id), rel, result

    async def rollback(self, app: App, target: Release, user: User) -> tuple[Release, DeployResult]:
        """A new release with `target`'s slug and config; if it goes live, its config is the app's."""
        if target.status != "succeeded":
            raise PlatformError("invalid_params", f"Release v{target.version} {target.status}; "
                                "roll back to a release that succeeded (see `hoist releases`).", 422, "release")
        return await self.release(app, slug_id=target.slug_id, config=target.config,
                                  description=f"Rollback to v{target.version}", user=user)
