"""The build, step by step: detect, Python version, dependencies (env reuse), hooks, slug."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from hoist.builder import envs, install, oldapps, steps
from hoist.builder.appjson import read_app_json
from hoist.builder.detect import Manager, detect_manager
from hoist.builder.output import Log, Runner
from hoist.builder.procfile import NO_PROCFILE, parse_procfile, web_warning
from hoist.builder.request import BuildRequest
from hoist.builder.runtime import choose_python
from hoist.contracts.build import BuildMetadata, BuildResult

__all__ = ["BuildRequest", "build"]


def _read(path: Path) -> str | None:
    return path.read_text(errors="replace") if path.is_file() else None


def _top_level(source: Path) -> tuple[set[str], set[str]]:
    files = {p.name for p in source.iterdir() if p.is_file()}
    venvs = {p.name for p in source.iterdir() if p.is_dir() and (p / "pyvenv.cfg").is_file()}
    return files, venvs


def read_procfile(source: Path, log: Log) -> dict[str, str]:
    """Parse the app's Procfile. Without one, or without a `web` process, the app builds and
    releases as on Heroku, with a warning: it has no web dyno until a Procfile declares one."""
    text = _read(source / "Procfile")
    if text is None:
        log.warn(NO_PROCFILE)
        return {}
    processes = parse_procfile(text)
    warning = web_warning(processes)
    if warning:
        log.warn(warning)
    return processes


def discard_reasons(previous: BuildMetadata | None, python: str, manager: Manager, content_hash: str) -> list[str]:
    """Why the previous build's env cannot be reused (empty when it can, or on a first build)."""
    if not previous or not previous.env_key:
        return []
    reasons = []
    if previous.python_version != python:
        reasons.append(f"Python version changed from {previous.python_version} to {python}")
    if previous.manager != manager.name:
        reasons.append(f"package manager changed from {previous.manager} to {manager.name}")
    elif previous.content_hash != content_hash:
        reasons.append(f"{manager.file} changed")
    return reasons or ["the build format changed"]


def ensure_env(req: BuildRequest, runner: Runner, plan: install.Plan, python: str, python_path: str) -> tuple[str, Path]:
    """Reuse the env for this key if it exists, else build it beside and rename it into place."""
    store = envs.EnvStore(req.app_home)
    store.clean_stale()
    chash = envs.content_hash(plan.content)
    key = envs.env_key(python, plan.manager.name, plan.content)
    previous_key = req.previous.env_key if req.previous else None
    if previous_key != key:
        reasons = discard_reasons(req.previous, python, plan.manager, chash)
        if reasons:
            runner.log.topic("Discarding cache since: " + "; ".join(reasons))
    if store.ready(key):
        why = "unchanged" if previous_key == key else "same as an earlier build"
        runner.log.topic(f"Reusing virtualenv ({plan.manager.file} {why})")
        return key, store.path(key)
    runner.log.topic(f"Installing dependencies with uv ({plan.manager.file})")
    if plan.unmapped:
        runner.log.info("These conda packages have no pip equivalent and were skipped: " + ", ".join(plan.unmapped))
    started = time.monotonic()
    temp = store.temp_path(key)
    uv_env = install.uv_env(req.env, req.uv_cache)
    try:
        # The venv is relocatable, so building it in temp and renaming keeps its scripts working.
        install.create_env(runner, req.uv, python_path, temp, uv_env)
        install.install(runner, req.uv, plan, req.source, temp, python_path, uv_env, python)
        runner.check_deadline()
        final = store.commit(temp, key, {"python_version": python, "manager": plan.manager.name,
                                          "size": envs.dir_size(temp)})
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    runner.log.info(f"Installed in {time.monotonic() - started:.2f} s")
    return key, final


def check_env(runner: Runner, env_dir: Path, manager_file: str) -> None:
    """Failures an old app would meet only when its dynos start, said at build time."""
    found = oldapps.warnings(oldapps.installed_versions(env_dir), oldapps.has_pkg_resources(env_dir), manager_file)
    for warning in found:
        runner.log.warn(warning)


def build(req: BuildRequest, runner: Runner) -> BuildResult:
    """Run the whole build; return what the platform needs to make a slug of it."""
    log = runner.log
    started = time.monotonic()
    files, venvs = _top_level(req.source)
    manager = detect_manager(files, venvs)
    log.topic("Python app detected")
    processes = read_procfile(req.source, log)
    app_json = read_app_json(req.source)
    plan = install.plan_install(req.source, manager)
    python, python_path = choose_python(req, manager, plan, runner)

    steps.run_hook(runner, req.source, "pre_compile", req.env, None)
    key, env_dir = ensure_env(req, runner, plan, python, python_path)
    check_env(runner, env_dir, manager.file)
    steps.collectstatic(runner, req.source, req.env, env_dir)
    steps.run_hook(runner, req.source, "post_compile", req.env, env_dir)
    runner.check_deadline()

    keep = envs.recent_keys(req.previous, key)
    removed = envs.EnvStore(req.app_home).prune(keep)
    if removed:
        log.topic(f"Removed {len(removed)} virtualenv(s) not used by the last {envs.KEEP_BUILDS} builds")

    app_size = envs.dir_size(req.source)
    env_size = int(envs.EnvStore(req.app_home).marker(key).get("size") or 0)
    slug_size = app_size + env_size
    log.topic(f"Slug size: {_mb(slug_size)} (app {_mb(app_size)} + virtualenv {_mb(env_size)})")
    log.info(f"Process types: {', '.join(sorted(processes)) or '(none)'}")
    log.info(f"Build finished in {time.monotonic() - started:.2f} s")
    metadata = BuildMetadata(
        python_version=python, manager=manager.name, manager_file=manager.file,
        content_hash=envs.content_hash(plan.content), env_key=key, recent_envs=tuple(keep),
    )
    return BuildResult(process_types=processes, env_dir=str(env_dir), python_version=python,
                       slug_size=slug_size, app_json=app_json, metadata=metadata)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
