"""App setups (`POST /app-setups`, what a "Deploy to Heroku" button calls): create the app, set the
overridden config vars, then build and release the source tarball the way a push is built. The
build itself does the rest of what app.json asks on a first deploy: its env defaults and required
vars, its add-ons, its formation and `scripts.postdeploy`. The setup's status follows: pending, then
succeeded, or failed with a failure_message (the build's error, or the postdeploy script's status)."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping

from hoist.platform.control import Platform
from hoist.platform.pipeline import Outcome, Pushes
from hoist.platform.sources import Blob
from hoist.state import app_setups as setups_t
from hoist.state import config as config_t
from hoist.state.app_setups import AppSetup
from hoist.state.users import User


class AppSetups:
    def __init__(self, platform: Platform, pushes: Pushes) -> None:
        self.platform = platform
        self.pushes = pushes
        self._tasks: set[asyncio.Task[None]] = set()

    def create(self, user: User, name: str | None, blob: Blob, checksum: str | None, version: str | None,
               env: Mapping[str, str]) -> AppSetup:
        """Start a setup whose source and inputs were checked; PlatformError if the app cannot be created."""
        p = self.platform
        app = p.create_app(user, name)
        if env:
            config_t.apply_changes(p.db, app.id, env)  # before the build: app.json's defaults do not replace them
            p.audit(app, user, "config", f"Set {', '.join(sorted(env))} from the app setup")
        setup = setups_t.create(p.db, app.id, user.id)
        build, task = self.pushes.start(app, user, version, p.sources.receiver(blob, checksum))
        setups_t.update(p.db, setup.id, build_id=build.id)
        watcher = asyncio.create_task(self._finish(setup.id, task))
        self._tasks.add(watcher)
        watcher.add_done_callback(self._tasks.discard)
        found = setups_t.get(p.db, setup.id)
        assert found is not None
        return found

    async def _finish(self, setup_id: str, build: asyncio.Task[Outcome]) -> None:
        """Record how the build and its postdeploy script ended."""
        try:
            outcome = await build
        except Exception as exc:  # the setup must not stay pending
            outcome = Outcome(failure=f"hoist failed while setting up the app: {exc!r}")
        exit_code = outcome.postdeploy_exit
        if not outcome.ok:
            failure: str | None = outcome.failure
        elif exit_code not in (None, 0):
            failure = (f"The postdeploy script exited with status {exit_code}; the app is released. Fix the "
                       "script and run it with `hoist run`.")
        else:
            failure = None
        setups_t.update(self.platform.db, setup_id, status="failed" if failure else "succeeded",
                        failure_message=failure,
                        postdeploy_output="\n".join(outcome.postdeploy_output) if exit_code is not None else None,
                        postdeploy_exit_code=exit_code)
