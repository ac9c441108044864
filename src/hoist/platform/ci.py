"""Heroku CI's contract: app.json `environments.test` runs in a test dyno of the new build, with throwaway
add-ons and the test env (never the app's own config: tests must not reach production data). The exit
status of `scripts.test` (after `scripts.test-setup`) is the verdict; a run over its time limit fails and
its whole test dyno (the process group) is killed. Each run is a row with its output (state/test_runs.py).

The test dyno works on a copy of the slug, so nothing a test writes reaches the release."""
from __future__ import annotations

import asyncio
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

from hoist.contracts.appjson import TestEnv
from hoist.contracts.release import RunRelease
from hoist.dynos.once import exit_status
from hoist.dynos.spawn import spawn
from hoist.logs.line import PLATFORM
from hoist.platform.ci_addons import TestAddonError, throwaway_addons
from hoist.platform.control import Platform
from hoist.platform.errors import PlatformError
from hoist.state import releases as releases_t
from hoist.state import test_runs as runs_t
from hoist.state.apps import App
from hoist.state.test_runs import TestRun
from hoist.state.users import User

Emit = Callable[[str], None]

NO_TEST_SCRIPT = ('app.json has no environments.test.scripts.test, so CI has nothing to run. Add one, e.g. '
                  '{"environments": {"test": {"scripts": {"test": "pytest"}}}}, or turn CI off: hoist ci:disable')


class TestRuns:
    """Runs the tests of a build (`run`) or of the current release again (`rerun`)."""
    __test__ = False

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.live: dict[str, list[str]] = {}  # output of the runs going now, by run id
        self._tasks: set[asyncio.Task[TestRun]] = set()

    def enabled(self, app: App) -> bool:
        return runs_t.get_settings(self.platform.db, app.id).enabled

    def time_limit(self, app: App) -> float:
        return runs_t.get_settings(self.platform.db, app.id).time_limit or self.platform.settings.ci_time_limit

    def output(self, run: TestRun) -> str:
        lines = self.live.get(run.id)
        return "\n".join(lines) + "\n" if lines is not None else run.output

    async def run(self, app: App, user: User | None, test_env: TestEnv | None, process_types: dict[str, str],
                  slug_dir: Path, env_dir: Path | None, commit: str | None, source: str, emit: Emit) -> TestRun:
        """One test run of this build; its verdict is the returned row's status (succeeded: deploy)."""
        row = runs_t.create_run(self.platform.db, app.id, commit, source, user.id if user else None)
        return await self._execute(app, row, test_env, process_types, slug_dir, env_dir, emit)

    async def _execute(self, app: App, row: TestRun, test_env: TestEnv | None, process_types: dict[str, str],
                       slug_dir: Path, env_dir: Path | None, emit: Emit) -> TestRun:
        p = self.platform
        lines: list[str] = []
        self.live[row.id] = lines

        def say(line: str) -> None:  # everything the run prints: to the pusher and into the run's output
            lines.append(line)
            emit(line)

        status, code, message = "errored", None, ""
        started = time.monotonic()
        try:
            status, code, message = await self._run(app, row, test_env, process_types, slug_dir, env_dir, say)
        except Exception as exc:  # the run's row must end, whatever happened
            message = f"hoist failed while running the tests: {exc!r}"
        finally:
            runs_t.finish_run(p.db, row.id, status, code, message, "\n".join(lines) + "\n")
            self.live.pop(row.id, None)
        took = f"{time.monotonic() - started:.1f}s"
        if status == "succeeded":
            emit(f"-----> Test run #{row.number} succeeded in {took}")
        else:
            emit(f" !     Test run #{row.number} {status} after {took}: {message}")
        p.logs.emit(app.name, "app", "api", f"Test run #{row.number} {status}" + (f": {message}" if message else ""))
        got = runs_t.get_run(p.db, app.id, row.number)
        assert got is not None
        return got

    async def _run(self, app: App, row: TestRun, test_env: TestEnv | None, process_types: dict[str, str],
                   slug_dir: Path, env_dir: Path | None, say: Emit) -> tuple[str, int | None, str]:
        p = self.platform
        if test_env is None or not test_env.test:
            say(f" !     {NO_TEST_SCRIPT}")
            return "errored", None, NO_TEST_SCRIPT
        limit = self.time_limit(app)
        ci_dir = p.paths.app(app.name) / "ci"  # the app's alone (0700), like its slugs
        work = ci_dir / row.id
        say(f"-----> Test run #{row.number}: copying the build into a test dyno")
        ci_dir.mkdir(mode=0o700, exist_ok=True)
        await asyncio.to_thread(shutil.copytree, slug_dir, work / "app", symlinks=True)
        work.chmod(0o700)
        if p.isolation is not None:
            await asyncio.to_thread(p.isolation.give, app.name, ci_dir)  # and the copy in it
        try:
            # Add-on servers keep their files where the app's own add-ons do (addons/, which their users reach).
            addons_dir = p.paths.app(app.name) / "addons"
            async with throwaway_addons(p.addons, app, test_env.addons, addons_dir, say) as addon_vars:
                config = {**test_env.env, **addon_vars, "CI": "true", "HEROKU_TEST_RUN_ID": row.id,
                          "HEROKU_TEST_RUN_NUMBER": str(row.number),
                          "HEROKU_TEST_RUN_COMMIT_VERSION": row.commit or "",
                          "PYTHONDONTWRITEBYTECODE": "1"}
                release = RunRelease(id=f"test-{row.id}", version=0, process_types=process_types,
                                     slug_dir=work / "app", env_dir=env_dir, config=config)
                deadline = time.monotonic() + limit
                for name, command in (("test-setup", test_env.setup), ("test", test_env.test)):
                    if not command:
                        continue
                    say(f"-----> Running {name}: {command}")
                    rc, timed_out = await self._dyno(app, release, f"test.{row.number}", command,
                                                     deadline - time.monotonic(), say)
                    if timed_out:
                        return "failed", None, (
                            f"the test run went over its time limit of {limit:g} s and was stopped (its test dyno "
                            f"was killed). Make the tests faster, or raise the limit: hoist ci:enable "
                            f"--time-limit SECONDS -a {app.name}")
                    if rc != 0:
                        return "failed", rc, f"{name} exited with status {exit_status(rc)}"
                return "succeeded", 0, ""
        except TestAddonError as exc:
            say(f" !     {exc}")
            return "errored", None, str(exc)
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    async def _dyno(self, app: App, release: RunRelease, name: str, command: str, budget: float,
                    say: Emit) -> tuple[int, bool]:
        """Run one script in the test dyno; (exit status, whether the time limit stopped it)."""
        p = self.platform
        p.logs.emit(app.name, PLATFORM, name, f"Starting process with command `{command}`")

        def line(text: str) -> None:
            p.logs.emit(app.name, "app", name, text)
            say("       " + text)

        proc = await spawn(p.supervisor.scheduler, app.name, release, name, command, line)
        try:
            rc = await asyncio.wait_for(proc.wait(), timeout=max(budget, 0.0))
            return rc, False
        except asyncio.TimeoutError:
            proc.signal(signal.SIGKILL)  # the whole process group: the script and all it started
            rc = await proc.wait()
            p.logs.emit(app.name, PLATFORM, name, "Test run over its time limit: test dyno killed")
            return rc, True
        finally:
            p.logs.emit(app.name, PLATFORM, name, f"Process exited with status {exit_status(proc.returncode or 0)}")

    def rerun(self, app: App, user: User) -> TestRun:
        """Run the tests of the current release's build again, in the background; returns the new run's row."""
        p = self.platform
        current = releases_t.current_release(p.db, app.id)
        slug = releases_t.get_slug(p.db, current.slug_id) if current and current.slug_id else None
        if slug is None:
            raise PlatformError("invalid_params", f"{app.name} has no build to test yet: push first.", 422, "test-run")
        row = runs_t.create_run(p.db, app.id, slug.commit, "rerun", user.id)
        task = asyncio.create_task(self._execute(
            app, row, slug.app_json.test_env if slug.app_json else None, slug.process_types,
            p.paths.slug(app.name, slug.id), Path(slug.env_dir) if slug.env_dir else None, lambda s: None))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return row
