"""A push, end to end, in flow order: receive the pushed tree, build it
(BuildResult), record the slug (Slug), release it (Release; the supervisor
starts its dynos and the route table follows). Every line of output goes
both to the pusher (as it happens) and to the build's log file.

Pushes to one app run one at a time. A failed build or release leaves the
running release untouched and removes the half-made slug. With CI on (or a
connected repository's --wait-for-ci), the build's tests run before the
release (platform/ci.py) and a failing run rejects the push."""
from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable, Mapping

from hoist.addons.plans import PlanError, parse_plan
from hoist.contracts.appjson import AppJson, resolve_env
from hoist.contracts.build import BuildResult, result_line
from hoist.platform.ci import TestRuns
from hoist.platform.control import Platform
from hoist.platform.errors import PlatformError
from hoist.platform.run_builder import run_builder
from hoist.platform.upload import unpack
from hoist.dynos.once import exit_status, run_once
from hoist.state import apps as apps_t
from hoist.state import builds as builds_t
from hoist.state import config as config_t
from hoist.state import formation as formation_t
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.releases import Release, Slug
from hoist.state.users import User

Emit = Callable[[str], None]


@dataclass(frozen=True)
class Push:
    """One push being deployed: who pushed which commit, and where its build and slug go."""
    app: App
    user: User
    commit: str
    build_id: str
    slug_id: str
    slug_dir: Path
    wait_for_ci: bool = False  # run the tests even when the app's CI is off (a connected repository's choice)
    source: str = "push"  # push | connected


class Pushes:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.tests = TestRuns(platform)
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, app: str) -> asyncio.Lock:
        return self._locks.setdefault(app, asyncio.Lock())

    async def run(self, app: App, user: User, commit: str, body: AsyncIterator[bytes], *,
                  wait_for_ci: bool = False, source: str = "push") -> AsyncIterator[str]:
        """Yield output lines (with newlines) and finally the result line for the hook."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        def out(line: str) -> None:
            queue.put_nowait(line)

        async def work() -> bool:
            try:
                return await self._push(app, user, commit, body, out, wait_for_ci, source)
            except Exception as exc:  # the pusher must hear about any failure
                out(f" !     hoist failed while deploying: {exc!r}. The running release is unchanged.")
                return False
            finally:
                queue.put_nowait(None)

        if self.lock(app.name).locked():
            yield "-----> Waiting for another push to this app to finish...\n"
        task = asyncio.create_task(work())
        while True:
            line = await queue.get()
            if line is None:
                break
            yield line + "\n"
        yield result_line(await task)

    async def _push(self, app: App, user: User, commit: str, body: AsyncIterator[bytes], out: Emit,
                    wait_for_ci: bool, source: str) -> bool:
        """Deploy under the app's push lock, with the build's log file and its cleanup on failure."""
        p = self.platform
        async with self.lock(app.name):
            app = apps_t.get_app(p.db, app.id) or app
            build = builds_t.create_build(p.db, app.id, user.id, commit)
            log_path = p.paths.build_log(app.name, build.id)
            log_path.parent.mkdir(parents=True, exist_ok=True)
            logf = log_path.open("w", encoding="utf-8")

            def emit(line: str) -> None:
                out(line)
                try:
                    logf.write(line + "\n")
                    logf.flush()
                except OSError:
                    pass  # a full disk must not hide the build's output from the pusher

            p.logs.emit(app.name, "app", "api", f"Build started by user {user.email}")
            slug_id = str(uuid.uuid4())
            push = Push(app, user, commit, build.id, slug_id, p.paths.slug(app.name, slug_id), wait_for_ci, source)
            ok = False
            try:
                ok = await self._deploy(push, body, emit)
            finally:
                if not ok:
                    # First the cleanup, which must happen even on a full disk; then the bookkeeping.
                    shutil.rmtree(push.slug_dir, ignore_errors=True)
                    builds_t.finish_build(p.db, build.id, "failed")
                    p.logs.emit(app.name, "app", "api", f"Build failed -- check your build output: {build.id}")
                with contextlib.suppress(OSError):
                    logf.close()
            return ok

    async def _deploy(self, push: Push, body: AsyncIterator[bytes], emit: Emit) -> bool:
        """receive -> build -> slug -> release -> dynos -> route table; False rejects the push."""
        p, app = self.platform, push.app
        started = time.monotonic()

        emit("-----> Receiving push")
        await unpack(body, push.slug_dir)

        result = await run_builder(p.settings, p.paths, p.isolation, app.name, push.slug_dir,
                                   config_t.get_config(p.db, app.id), app.build_metadata, emit)
        if result is None:
            emit(" !     Push rejected: the build failed. The running release is unchanged.")
            return False
        app_json = result.app_json or AppJson()
        if (push.wait_for_ci or self.tests.enabled(app)) and not await self._test(push, result, app_json, emit):
            return False
        if not self._apply_app_json_env(app, app_json, emit):
            return False
        first_deploy = releases_t.latest_slug_release(p.db, app.id) is None
        if first_deploy and not await self._provision_app_json_addons(app, push.user, app_json, emit):
            return False

        slug = self._record_slug(push, result)
        self._apply_first_deploy_defaults(app, result.process_types, app_json)
        emit(f"-----> Build succeeded in {time.monotonic() - started:.1f}s")

        emit("-----> Launching...")
        rel, outcome = await p.release(app, slug_id=slug.id, config=config_t.get_config(p.db, app.id),
                                       description=f"Deploy {push.commit[:8]}", user=push.user, out=emit)
        builds_t.finish_build(p.db, push.build_id, "succeeded", release_id=rel.id)
        if not outcome.ok:
            emit(f" !     Release v{rel.version} failed: {outcome.message}")
            emit(" !     Push rejected. The previous release keeps serving; see `hoist logs`.")
            return False
        emit(f"       Released v{rel.version}")
        emit(f"       {p.web_url(app.name)} deployed to hoist in {time.monotonic() - started:.1f}s")

        if first_deploy and app_json.postdeploy:
            await self._postdeploy(app, rel, app_json.postdeploy, emit)
        return True

    async def _test(self, push: Push, result: BuildResult, app_json: AppJson, emit: Emit) -> bool:
        """CI: the build's tests, in a test dyno; their verdict decides whether it is released."""
        run = await self.tests.run(push.app, push.user, app_json.test_env, dict(result.process_types), push.slug_dir,
                                   Path(result.env_dir) if result.env_dir else None, push.commit, push.source, emit)
        if run.status != "succeeded":
            emit(f" !     Push rejected: test run #{run.number} {run.status}. The running release is unchanged.")
            emit(f" !     See its output: hoist ci:info {run.number} -a {push.app.name}")
            return False
        return True

    def _record_slug(self, push: Push, result: BuildResult) -> Slug:
        """The build's output becomes an immutable slug; the app remembers the build for the next one."""
        p = self.platform
        slug = releases_t.create_slug(
            p.db, push.app.id, slug_id=push.slug_id, commit=push.commit, process_types=result.process_types,
            env_dir=result.env_dir, python_version=result.python_version, size=result.slug_size,
            app_json=result.app_json,
        )
        apps_t.update_app(p.db, push.app.id, build_metadata=result.metadata.to_json())
        builds_t.finish_build(p.db, push.build_id, "succeeded", slug_id=slug.id)
        return slug

    async def _provision_app_json_addons(self, app: App, user: User, app_json: AppJson, emit: Emit) -> bool:
        """app.json's add-ons are provisioned on the first deploy, before its release reads the config."""
        manager = self.platform.addons
        plans_wanted = [a.plan for a in app_json.addons]
        if not plans_wanted:
            return True
        have = {a.service for a in manager.list(app)}
        for plan in plans_wanted:
            try:
                service = parse_plan(plan).service
            except PlanError as exc:
                emit(f" !     app.json add-on {plan!r}: {exc}")
                return False
            if service in have:
                continue
            emit(f"-----> Provisioning {plan} (from app.json)")
            try:
                addon = await manager.create(app, user, plan)
            except PlatformError as exc:
                emit(f" !     Could not provision {plan}: {exc.message}")
                emit(" !     Push rejected. The running release is unchanged.")
                return False
            have.add(service)
            emit(f"       {addon.name} attached as {', '.join(addon.config_vars)}")
        return True

    def _apply_app_json_env(self, app: App, app_json: AppJson, emit: Emit) -> bool:
        """Set app.json's defaults for missing config vars; refuse the push while required ones are unset."""
        p = self.platform
        defaults, missing = resolve_env(app_json.env, config_t.get_config(p.db, app.id))
        if missing:
            emit(" !     app.json requires config vars that are not set: " + ", ".join(missing))
            keys = " ".join(f"{m.split(' ')[0]}=..." for m in missing)
            emit(f" !     Set them with `hoist config:set {keys} -a {app.name}`, then push again.")
            emit(" !     Push rejected. The running release is unchanged.")
            return False
        if defaults:
            config_t.apply_changes(p.db, app.id, defaults)
            emit(f"-----> Set {', '.join(sorted(defaults))} from app.json")
        return True

    async def _postdeploy(self, app: App, rel: Release, command: str, emit: Emit) -> None:
        """app.json's scripts.postdeploy runs once, after the app's first release."""
        p = self.platform
        run = p.run_release(app, rel)
        if run is None:
            return
        emit(f"-----> Running postdeploy script: {command}")
        rc = await run_once(p.supervisor.scheduler, p.logs, app.name, run, "postdeploy.1", command, emit)
        if rc != 0:
            emit(f" !     The postdeploy script exited with status {exit_status(rc)}; the release is live. "
                 "Fix the script and run it by hand if needed.")

    def _apply_first_deploy_defaults(self, app: App, process_types: Mapping[str, str], app_json: AppJson) -> None:
        """New process types get Heroku's default scale: web=1, others 0, unless app.json says otherwise."""
        types = [t for t in process_types if t != "release"]
        defaults = {t: (1 if t == "web" else 0) for t in types}
        for ptype, spec in app_json.formation.items():
            if ptype in defaults:
                defaults[ptype] = spec.quantity
        formation_t.ensure_types(self.platform.db, app.id, defaults)
