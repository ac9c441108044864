"""A build, end to end, in flow order: receive the source (a pushed git tree, or a tarball given to
`POST /apps/{app}/builds` or `POST /app-setups`), build it (BuildResult), record the slug (Slug),
release it (Release; the supervisor starts its dynos and the route table follows). Every line of
output goes to the build's log file, and, for a push, to the pusher as it happens.

One path for every source: only the receive step differs. Builds of one app run one at a time.
A failed build or release leaves the running release untouched and removes the half-made slug. With
CI on (or a connected repository's --wait-for-ci), the build's tests run before the release
(platform/ci.py) and a failing run rejects the build."""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Callable, Mapping, TextIO

from hoist.addons.plans import PlanError, parse_plan
from hoist.contracts import appjson
from hoist.contracts.appjson import AppJson, resolve_env
from hoist.contracts.build import BuildResult
from hoist.contracts.pushresult import result_line
from hoist.platform.boot_report import ERR
from hoist.platform.ci import TestRuns
from hoist.platform.control import Platform
from hoist.platform.errors import PlatformError
from hoist.platform.run_builder import run_builder
from hoist.platform.sources import Receive
from hoist.platform.tarball import SourceError
from hoist.platform.upload import unpack
from hoist.dynos.once import exit_status, run_once
from hoist.state import apps as apps_t
from hoist.state import builds as builds_t
from hoist.state import config as config_t
from hoist.state import formation as formation_t
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.builds import Build
from hoist.state.releases import Release, Slug
from hoist.state.users import User

Emit = Callable[[str], None]
ERROR = " !     "


@dataclass(frozen=True)
class Push:
    """One build being deployed: who started it from which source version, and where its build and slug go."""
    app: App
    user: User
    commit: str
    build_id: str
    slug_id: str
    slug_dir: Path
    rejected: str  # how a failure is announced: "Push rejected" to a pusher, "Build failed" otherwise
    wait_for_ci: bool = False  # run the tests even when the app's CI is off (a connected repository's choice)
    source: str = "push"  # push | connected | build (what the test run records)


@dataclass
class Outcome:
    """How a build ended, as app setups report it."""
    ok: bool = False
    failure: str = ""  # the last error lines the build printed
    postdeploy_exit: int | None = None
    postdeploy_output: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the error lines since the last other line

    def note(self, line: str) -> None:
        if not line.startswith(ERROR):
            self.errors = []
            return
        text = line[len(ERROR):].strip()
        if text and not text.startswith(("Warning:", "Push rejected", "Build failed")):
            self.errors.append(text)
            self.failure = " ".join(self.errors)


def git_receive(body: AsyncIterator[bytes]) -> Receive:
    """The receive step of a push: the hook's `git archive` stream."""
    async def receive(dest: Path, emit: Emit) -> None:
        emit("-----> Receiving push")
        await unpack(body, dest)
    return receive


class Pushes:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.tests = TestRuns(platform)
        self._locks: dict[str, asyncio.Lock] = {}  # by app id: a name can change
        self._tasks: set[asyncio.Task[Outcome]] = set()
        self._running: set[str] = set()  # ids of builds whose output is still being written

    def lock(self, app_id: str) -> asyncio.Lock:
        return self._locks.setdefault(app_id, asyncio.Lock())

    def running(self, build_id: str) -> bool:
        """The build's output may still grow (its log is complete once this is False)."""
        return build_id in self._running

    def building(self, app: App) -> bool:
        """A build of the app is running or waiting to."""
        return self.lock(app.id).locked() or any(b.status == "pending" for b in builds_t.list_builds(
            self.platform.db, app.id))

    async def run(self, app: App, user: User, commit: str, body: AsyncIterator[bytes], *,
                  wait_for_ci: bool = False, source: str = "push") -> AsyncIterator[str]:
        """A git push (or a connected repository's commit): yield output lines (with newlines) and finally
        the result line for the hook."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        build = builds_t.create_build(self.platform.db, app.id, user.id, commit)
        self._running.add(build.id)

        async def work() -> bool:
            try:
                outcome = await self._push(app, user, build, commit, git_receive(body), queue.put_nowait,
                                           "Push rejected", wait_for_ci=wait_for_ci, source=source)
                return outcome.ok
            finally:
                queue.put_nowait(None)

        if self.lock(app.id).locked():
            yield "-----> Waiting for another push to this app to finish...\n"
        task = asyncio.create_task(work())
        while True:
            line = await queue.get()
            if line is None:
                break
            yield line + "\n"
        yield result_line(await task)

    def start(self, app: App, user: User, version: str | None, receive: Receive) -> tuple[Build, asyncio.Task[Outcome]]:
        """A build from a source blob, run in the background; its output is in the build's log as it runs."""
        p = self.platform
        build = builds_t.create_build(p.db, app.id, user.id, version)
        self._running.add(build.id)
        log_path = p.paths.build_log(app.name, build.id)
        with _open_log(log_path) as f:  # output_stream_url may be read before the build starts
            if self.lock(app.id).locked():
                f.write("-----> Waiting for another build of this app to finish...\n")
        task = asyncio.create_task(self._push(app, user, build, version or "", receive, lambda line: None,
                                              "Build failed", source="build"))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return build, task

    async def _push(self, app: App, user: User, build: Build, commit: str, receive: Receive, out: Emit,
                    rejected: str, *, wait_for_ci: bool = False, source: str = "push") -> Outcome:
        """Deploy under the app's build lock, with the build's log file and its cleanup on failure."""
        p = self.platform
        outcome = Outcome()
        log_path = p.paths.build_log(app.name, build.id)
        logf = _open_log(log_path)  # the open file follows the app's directory if it is renamed

        def emit(line: str) -> None:
            out(line)
            outcome.note(line)
            try:
                logf.write(line + "\n")
                logf.flush()
            except OSError:
                pass  # a full disk must not hide the build's output from the pusher

        push: Push | None = None
        try:
            async with self.lock(app.id):
                app = apps_t.get_app(p.db, app.id) or app
                p.logs.emit(app.name, "app", "api", f"Build started by user {user.email}")
                slug_id = str(uuid.uuid4())
                push = Push(app, user, commit, build.id, slug_id, p.paths.slug(app.name, slug_id), rejected,
                            wait_for_ci, source)
                outcome.ok = await self._deploy(push, receive, emit, outcome)
        except Exception as exc:  # whoever started the build must hear about any failure
            emit(f"{ERROR}hoist failed while deploying: {exc!r}. The running release is unchanged.")
            outcome.ok = False
        finally:
            if not outcome.ok:
                # First the cleanup, which must happen even on a full disk; then the bookkeeping.
                if push is not None:
                    shutil.rmtree(push.slug_dir, ignore_errors=True)
                built = builds_t.get_build(p.db, app.id, build.id)
                if built is None or built.status != "succeeded":  # a release that failed says so itself
                    builds_t.finish_build(p.db, build.id, "failed")
                    p.logs.emit(app.name, "app", "api", f"Build failed -- check your build output: {build.id}")
            with contextlib.suppress(OSError):
                logf.close()
            self._running.discard(build.id)
        outcome.failure = outcome.failure or "The build failed; see its output."
        return outcome

    async def _deploy(self, push: Push, receive: Receive, emit: Emit, outcome: Outcome) -> bool:
        """receive -> build -> slug -> release -> dynos -> route table; False rejects the push."""
        p, app = self.platform, push.app
        started = time.monotonic()

        try:
            await receive(push.slug_dir, emit)
        except SourceError as exc:
            emit(f"{ERROR}{exc}")
            emit(f"{ERROR}{push.rejected}: nothing was built. The running release is unchanged.")
            return False
        # app.json's env before the build, which sees the config vars (an opt-in such as
        # HOIST_ALLOW_EOL_PYTHON declared there counts from the first push); the build reports a bad file.
        early = _peek_app_json(push.slug_dir)
        if early is not None and not self._apply_app_json_env(push, early, emit):
            return False

        result = await run_builder(p.settings, p.paths, p.isolation, app.name, push.slug_dir,
                                   config_t.get_config(p.db, app.id), app.build_metadata, emit)
        if result is None:
            emit(f"{ERROR}{push.rejected}: the build failed. The running release is unchanged.")
            return False
        app_json = result.app_json or AppJson()
        if (push.wait_for_ci or self.tests.enabled(app)) and not await self._test(push, result, app_json, emit):
            return False
        if not self._apply_app_json_env(push, app_json, emit):
            return False
        first_deploy = releases_t.latest_slug_release(p.db, app.id) is None
        if first_deploy and not await self._provision_app_json_addons(push, app_json, emit):
            return False

        slug = self._record_slug(push, result)
        self._apply_first_deploy_defaults(app, result.process_types, app_json)
        emit(f"-----> Build succeeded in {time.monotonic() - started:.1f}s")
        p.logs.emit(app.name, "app", "api", "Build succeeded")

        emit("-----> Launching...")
        rel, deployed = await p.release(app, slug_id=slug.id, config=config_t.get_config(p.db, app.id),
                                        description=_description(push.commit), user=push.user, out=emit)
        builds_t.finish_build(p.db, push.build_id, "succeeded", release_id=rel.id)
        # What failed and why (it reads the slug's installed versions): only when something did.
        report = (p.releases.report(app, rel, deployed, lines_shown=deployed.failure == "release")
                  if not deployed.ok or deployed.failure else [])
        if not deployed.ok:
            # The push ends with what failed, what to do, the dyno's last lines and how it exited.
            first = report[0].removeprefix(ERR)
            emit(f"{ERR}{push.rejected}: {first[:1].lower()}{first[1:]}")
            for line in report[1:]:
                emit(line)
            return False
        emit(f"       Released v{rel.version}")
        emit(f"       {p.web_url(app.name)} deployed to hoist in {time.monotonic() - started:.1f}s")
        if deployed.failure:  # live, as on Heroku, but its web dyno crashed at boot
            for line in report:
                emit(line)

        if first_deploy and app_json.postdeploy:
            await self._postdeploy(app, rel, app_json.postdeploy, emit, outcome)
        return True

    async def _test(self, push: Push, result: BuildResult, app_json: AppJson, emit: Emit) -> bool:
        """CI: the build's tests, in a test dyno; their verdict decides whether it is released."""
        run = await self.tests.run(push.app, push.user, app_json.test_env, dict(result.process_types), push.slug_dir,
                                   Path(result.env_dir) if result.env_dir else None, push.commit, push.source, emit)
        if run.status != "succeeded":
            emit(f"{ERROR}{push.rejected}: test run #{run.number} {run.status}. The running release is unchanged.")
            emit(f"{ERROR}See its output: hoist ci:info {run.number} -a {push.app.name}")
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

    async def _provision_app_json_addons(self, push: Push, app_json: AppJson, emit: Emit) -> bool:
        """app.json's add-ons are provisioned on the first deploy, before its release reads the config."""
        app, user = push.app, push.user
        manager = self.platform.addons
        plans_wanted = [a.plan for a in app_json.addons]
        if not plans_wanted:
            return True
        have = {a.service for a in manager.list(app)}
        for plan in plans_wanted:
            try:
                service = parse_plan(plan).service
            except PlanError as exc:
                emit(f"{ERROR}app.json add-on {plan!r}: {exc}")
                return False
            if service in have:
                continue
            emit(f"-----> Provisioning {plan} (from app.json)")
            try:
                addon, _ = await manager.create(app, user, plan)
            except PlatformError as exc:
                emit(f"{ERROR}Could not provision {plan}: {exc.message}")
                emit(f"{ERROR}{push.rejected}. The running release is unchanged.")
                return False
            have.add(service)
            emit(f"       {addon.name} attached as {', '.join(addon.config_vars)}")
        return True

    def _apply_app_json_env(self, push: Push, app_json: AppJson, emit: Emit) -> bool:
        """Set app.json's defaults for missing config vars; refuse the push while required ones are unset."""
        p, app = self.platform, push.app
        defaults, missing = resolve_env(app_json.env, config_t.get_config(p.db, app.id))
        if missing:
            emit(f"{ERROR}app.json requires config vars that are not set: " + ", ".join(missing))
            keys = " ".join(f"{m.split(' ')[0]}=..." for m in missing)
            emit(f"{ERROR}Set them with `hoist config:set {keys} -a {app.name}`, then push again.")
            emit(f"{ERROR}{push.rejected}. The running release is unchanged.")
            return False
        if defaults:
            config_t.apply_changes(p.db, app.id, defaults)
            emit(f"-----> Set {', '.join(sorted(defaults))} from app.json")
        return True

    async def _postdeploy(self, app: App, rel: Release, command: str, emit: Emit, outcome: Outcome) -> None:
        """app.json's scripts.postdeploy runs once, after the app's first release."""
        p = self.platform
        run = p.run_release(app, rel)
        if run is None:
            return
        emit(f"-----> Running postdeploy script: {command}")

        def line(text: str) -> None:
            outcome.postdeploy_output.append(text.removeprefix("       "))
            emit(text)

        rc = await run_once(p.supervisor.scheduler, p.logs, app.name, run, "postdeploy.1", command, line)
        outcome.postdeploy_exit = rc if rc >= 0 else 128 - rc
        if rc != 0:
            emit(f"{ERROR}The postdeploy script exited with status {exit_status(rc)}; the release is live. "
                 "Fix the script and run it by hand if needed.")

    def _apply_first_deploy_defaults(self, app: App, process_types: Mapping[str, str], app_json: AppJson) -> None:
        """New process types get Heroku's default scale: web=1, others 0, unless app.json says otherwise."""
        types = [t for t in process_types if t != "release"]
        defaults = {t: (1 if t == "web" else 0) for t in types}
        for ptype, spec in app_json.formation.items():
            if ptype in defaults:
                defaults[ptype] = spec.quantity
        formation_t.ensure_types(self.platform.db, app.id, defaults)


def _description(version: str) -> str:
    """`Deploy 1a2b3c4d` for a commit (Heroku shortens it), `Deploy v1.2` for another version, else `Deploy`."""
    if not version:
        return "Deploy"
    short = version[:8] if len(version) == 40 and all(c in "0123456789abcdef" for c in version) else version[:60]
    return f"Deploy {short}"


def _open_log(path: Path) -> TextIO:
    """A build's log, appended to: hoist's alone (0600 in a 0700 directory), as the app's other logs."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8")


def _peek_app_json(source: Path) -> AppJson | None:
    """The pushed app.json, if there is one and it parses (the build says what is wrong with a bad one)."""
    path = source / "app.json"
    try:
        return appjson.parse(path.read_text(errors="replace")) if path.is_file() else None
    except (OSError, appjson.AppJsonError):
        return None
