"""The build, step by step: detect, Python version, dependencies (env reuse), hooks, slug."""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hoist.builder import envs, install, interpreters, pyversion, steps
from hoist.builder.appjson import read_app_json
from hoist.builder.detect import Manager, detect_manager
from hoist.builder.errors import BuildError
from hoist.builder.output import Runner
from hoist.builder.procfile import parse_procfile, require_web
from hoist.contracts.build import BuildMetadata, BuildResult

_ORIGIN_TEXT = {
    "runtime.txt": "specified in runtime.txt",
    ".python-version": "specified in .python-version",
    "Pipfile.lock": "specified in Pipfile.lock",
    "environment.yml": "specified in environment.yml",
    "the previous build": "(same as the previous build)",
    "default": "(the default)",
}


@dataclass(frozen=True)
class BuildRequest:
    source: Path
    app_home: Path
    uv_cache: Path
    uv: str
    previous: BuildMetadata | None  # what the previous successful build remembered
    env: dict[str, str]  # the build environment: PATH, HOME, LANG and the app's config vars


def _read(path: Path) -> str | None:
    return path.read_text(errors="replace") if path.is_file() else None


def _top_level(source: Path) -> tuple[set[str], set[str]]:
    files = {p.name for p in source.iterdir() if p.is_file()}
    venvs = {p.name for p in source.iterdir() if p.is_dir() and (p / "pyvenv.cfg").is_file()}
    return files, venvs


def read_procfile(source: Path) -> dict[str, str]:
    """Parse the app's Procfile and require a web process."""
    text = _read(source / "Procfile")
    if text is None:
        raise BuildError(
            "No Procfile found; add a file named Procfile at the top of the repository with a "
            "line such as `web: gunicorn app:app`, commit it and push again"
        )
    processes = parse_procfile(text)
    require_web(processes)
    return processes


def choose_python(req: BuildRequest, manager: Manager, plan: install.Plan, runner: Runner) -> tuple[str, str]:
    """Decide the Python version and find its interpreter; log which and why."""
    source = req.source
    if manager.name == "uv" and not (source / ".python-version").is_file():
        raise BuildError(
            "uv projects need a .python-version file; run `uv python pin 3.12` and commit "
            ".python-version, then push again"
        )
    request, warnings = pyversion.choose_request(
        runtime_txt=_read(source / "runtime.txt"),
        python_version_file=_read(source / ".python-version"),
        pipfile_lock_version=plan.python if manager.name == "pipenv" else None,
        conda_version=plan.python if manager.name == "conda" else None,
        previous_version=req.previous.python_version if req.previous else None,
    )
    known, installed = interpreters.discover(req.uv, req.uv_cache)
    version, path = pyversion.resolve(request, known, installed)
    runner.log.topic(f"Using Python {version} {_ORIGIN_TEXT[request.origin]}")
    for warning in warnings:
        runner.log.warn(warning)
    return version, path


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
        install.install(runner, req.uv, plan, req.source, temp, python_path, uv_env)
        runner.check_deadline()
        final = store.commit(temp, key, {"python_version": python, "manager": plan.manager.name,
                                          "size": envs.dir_size(temp)})
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    runner.log.info(f"Installed in {time.monotonic() - started:.2f} s")
    return key, final


def build(req: BuildRequest, runner: Runner) -> BuildResult:
    """Run the whole build; return what the platform needs to make a slug of it."""
    log = runner.log
    started = time.monotonic()
    files, venvs = _top_level(req.source)
    manager = detect_manager(files, venvs)
    log.topic("Python app detected")
    processes = read_procfile(req.source)
    app_json = read_app_json(req.source)
    plan = install.plan_install(req.source, manager)
    python, python_path = choose_python(req, manager, plan, runner)

    steps.run_hook(runner, req.source, "pre_compile", req.env, None)
    key, env_dir = ensure_env(req, runner, plan, python, python_path)
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
    log.info(f"Process types: {', '.join(sorted(processes))}")
    log.info(f"Build finished in {time.monotonic() - started:.2f} s")
    metadata = BuildMetadata(
        python_version=python, manager=manager.name, manager_file=manager.file,
        content_hash=envs.content_hash(plan.content), env_key=key, recent_envs=tuple(keep),
    )
    return BuildResult(process_types=processes, env_dir=str(env_dir), python_version=python,
                       slug_size=slug_size, app_json=app_json, metadata=metadata)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
