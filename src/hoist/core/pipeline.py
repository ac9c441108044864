"""A push, end to end: unpack the pushed tree, build it in a subprocess,
record the slug, release it. Every line of output goes both to the pusher
(as it happens) and to the build's log file.

Pushes to one app run one at a time. A failed build or release leaves the
running release untouched and removes the half-made slug."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tarfile
import tempfile
import time
import uuid
from pathlib import Path
from typing import AsyncIterator, Callable

from hoist.core.appjson import resolve_env
from hoist.addons.plans import PlanError, parse_plan
from hoist.core.platform import Platform, PlatformError
from hoist.dynos.once import exit_status, run_once
from hoist.dynos.pythons import builder_argv, reachable_uv
from hoist.launch import module_argv
from hoist.state import apps as apps_t
from hoist.state import builds as builds_t
from hoist.state import config as config_t
from hoist.state import formation as formation_t
from hoist.state import releases as releases_t
from hoist.state.apps import App
from hoist.state.releases import Release
from hoist.state.users import User

RESULT_PREFIX = "\x00hoist-result:"
MAX_UPLOAD = 1024 * 1024 * 1024  # an unpacked tree over 1 GiB is refused


class Pushes:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, app: str) -> asyncio.Lock:
        return self._locks.setdefault(app, asyncio.Lock())

    async def run(self, app: App, user: User, commit: str, body: AsyncIterator[bytes]) -> AsyncIterator[str]:
        """Yield output lines (with newlines) and finally the result marker for the hook."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        def out(line: str) -> None:
            queue.put_nowait(line)

        async def work() -> bool:
            try:
                return await self._push(app, user, commit, body, out)
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
        ok = await task
        yield f"{RESULT_PREFIX}{'ok' if ok else 'fail'}\n"

    async def _push(self, app: App, user: User, commit: str, body: AsyncIterator[bytes],
                    out: Callable[[str], None]) -> bool:
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
            slug_dir = p.paths.slug(app.name, slug_id)
            ok = False
            try:
                ok = await self._build_and_release(app, user, commit, body, build.id, slug_id, slug_dir, emit)
            finally:
                if not ok:
                    # First the cleanup, which must happen even on a full disk; then the bookkeeping.
                    shutil.rmtree(slug_dir, ignore_errors=True)
                    builds_t.finish_build(p.db, build.id, "failed")
                    p.logs.emit(app.name, "app", "api", f"Build failed -- check your build output: {build.id}")
                with contextlib.suppress(OSError):
                    logf.close()
            return ok

    async def _build_and_release(self, app: App, user: User, commit: str, body: AsyncIterator[bytes],
                                 build_id: str, slug_id: str, slug_dir: Path, emit: Callable[[str], None]) -> bool:
        p = self.platform
        started = time.monotonic()
        emit("-----> Receiving push")
        await _unpack(body, slug_dir)
        config = config_t.get_config(p.db, app.id)
        result = await self._run_builder(app, slug_dir, config, emit)
        if result is None:
            emit(" !     Push rejected: the build failed. The running release is unchanged.")
            return False
        app_json = result.get("app_json") or {}
        if not self._apply_app_json_env(app, app_json, emit):
            return False
        first_deploy = releases_t.latest_slug_release(p.db, app.id) is None
        if first_deploy and not await self._provision_app_json_addons(app, user, app_json, emit):
            return False
        slug = releases_t.create_slug(
            p.db, app.id, slug_id=slug_id, commit=commit, process_types=result["process_types"],
            env_dir=result.get("env_dir"), python_version=result.get("python_version"),
            size=int(result.get("slug_size", 0)), app_json=result.get("app_json"),
        )
        apps_t.update_app(p.db, app.id, build_metadata=result.get("metadata"))
        builds_t.finish_build(p.db, build_id, "succeeded", slug_id=slug.id)
        self._apply_first_deploy_defaults(app, result)
        emit(f"-----> Build succeeded in {time.monotonic() - started:.1f}s")
        emit("-----> Launching...")
        rel, outcome = await p.release(app, slug_id=slug.id, config=config_t.get_config(p.db, app.id),
                                       description=f"Deploy {commit[:8]}", user=user, out=emit)
        builds_t.finish_build(p.db, build_id, "succeeded", release_id=rel.id)
        if not outcome.ok:
            emit(f" !     Release v{rel.version} failed: {outcome.message}")
            emit(" !     Push rejected. The previous release keeps serving; see `hoist logs`.")
            return False
        emit(f"       Released v{rel.version}")
        emit(f"       {p.web_url(app.name)} deployed to hoist in {time.monotonic() - started:.1f}s")
        postdeploy = (app_json.get("scripts") or {}).get("postdeploy")
        if first_deploy and postdeploy:
            await self._postdeploy(app, rel, postdeploy, emit)
        return True

    async def _provision_app_json_addons(self, app: App, user: User, app_json: dict,
                                         emit: Callable[[str], None]) -> bool:
        """app.json's add-ons are provisioned on the first deploy, before its release reads the config."""
        manager = self.platform.addons
        plans_wanted = [a["plan"] for a in app_json.get("addons") or []]
        if not plans_wanted or manager is None:
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

    def _apply_app_json_env(self, app: App, app_json: dict, emit: Callable[[str], None]) -> bool:
        """Set app.json's defaults for missing config vars; refuse the push while required ones are unset."""
        p = self.platform
        defaults, missing = resolve_env(app_json.get("env") or {}, config_t.get_config(p.db, app.id))
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

    async def _postdeploy(self, app: App, rel: Release, command: str, emit: Callable[[str], None]) -> None:
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

    def _apply_first_deploy_defaults(self, app: App, result: dict) -> None:
        """New process types get Heroku's default scale: web=1, others 0, unless app.json says otherwise."""
        p = self.platform
        types = [t for t in result["process_types"] if t != "release"]
        defaults = {t: (1 if t == "web" else 0) for t in types}
        app_json = result.get("app_json") or {}
        for ptype, spec in (app_json.get("formation") or {}).items():
            if ptype in defaults and isinstance(spec, dict) and isinstance(spec.get("quantity"), int):
                defaults[ptype] = spec["quantity"]
        formation_t.ensure_types(p.db, app.id, defaults)

    async def _run_builder(self, app: App, slug_dir: Path, config: dict[str, str],
                           emit: Callable[[str], None]) -> dict | None:
        p = self.platform
        app_home = p.paths.app(app.name)
        iso = p.isolation
        with tempfile.TemporaryDirectory(prefix="hoist-build-") as tmp:
            result_file = Path(tmp) / "result.json"
            # Isolated builds get a uv cache of their own: a cache shared between app users
            # would let one app plant packages that another app's build installs.
            uv_cache = app_home / "cache" / "uv" if iso else p.paths.uv_cache
            build_args = ("--source", str(slug_dir), "--app-home", str(app_home), "--uv-cache", str(uv_cache),
                          "--result", str(result_file), "--timeout", str(p.settings.build_timeout))
            args = builder_argv(p.paths.pythons, "hoist.builder", *build_args) if iso else \
                module_argv("hoist.builder", *build_args)
            latest = apps_t.get_app(p.db, app.id)
            if latest and latest.build_metadata:
                prev = Path(tmp) / "previous.json"
                prev.write_text(json.dumps(latest.build_metadata))
                args += ["--previous", str(prev)]
            env = build_env(config, app_home)
            extra: dict[str, object] = {}
            if iso:
                user = iso.run_as(app.name)
                iso.give(app.name, slug_dir)
                iso.give(app.name, Path(tmp))
                env.update({"HOME": str(user.home), "PYENV_ROOT": str(p.paths.pythons),
                            "HOIST_UV": reachable_uv(p.paths.pythons)})
                extra = {"user": user.uid, "group": user.gid, "extra_groups": []}
            proc = await asyncio.create_subprocess_exec(
                *args, env=env, cwd=str(slug_dir), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
                **extra,  # type: ignore[arg-type]
            )
            assert proc.stdout is not None
            try:
                async with asyncio.timeout(p.settings.build_timeout + 30):
                    while True:
                        raw = await proc.stdout.readline()
                        if not raw:
                            break
                        emit(raw.decode("utf-8", "replace").rstrip("\n"))
                    rc = await proc.wait()
            except TimeoutError:
                _kill_group(proc.pid)
                await proc.wait()
                emit(f" !     Build timed out after {p.settings.build_timeout:g} s and was stopped; "
                     "raise HOIST_BUILD_TIMEOUT if your build needs longer.")
                return None
            except BaseException:
                _kill_group(proc.pid)
                raise
            if rc != 0 or not result_file.exists():
                return None
            return json.loads(result_file.read_text())


# The machine's network settings (its CA bundle, proxies, package index) are
# the operator's, not hoist's secrets: builds need them to reach PyPI.
NETWORK_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
                "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_NATIVE_TLS", "UV_INSECURE_HOST")


def build_env(config: dict[str, str], app_home: Path) -> dict[str, str]:
    """The builder sees the app's config vars (as Heroku's build does) and the machine's network
    settings, not the rest of hoist's own environment."""
    env = {k: os.environ[k] for k in NETWORK_VARS if k in os.environ}
    env.update(config)
    env.update({
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(app_home),
        "LANG": env.get("LANG", "C.UTF-8"),
    })
    return env


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def _unpack(body: AsyncIterator[bytes], dest: Path) -> None:
    """Stream the tar upload to a temp file, then extract it safely (no links out, no absolute paths)."""
    dest.mkdir(parents=True)
    size = 0
    with tempfile.TemporaryFile() as f:
        async for chunk in body:
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise ValueError("the pushed tree is over 1 GiB; keep large data out of the repository")
            f.write(chunk)
        f.seek(0)
        await asyncio.to_thread(_extract, f, dest)


def _extract(fileobj: object, dest: Path) -> None:
    with tarfile.open(fileobj=fileobj, mode="r:") as tar:  # type: ignore[call-overload]
        tar.extractall(dest, filter="data")
