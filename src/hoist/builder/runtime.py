"""The app's Python: the version it asks for (pyversion), then an interpreter for it: one
installed here, one uv downloads (its managed Pythons), or, for an end-of-life version the
app opted in to, the machine's own old interpreter."""
from __future__ import annotations

from pathlib import Path

from hoist.builder import interpreters, pyversion
from hoist.builder.detect import Manager
from hoist.builder.errors import BuildError
from hoist.builder.install import Plan
from hoist.builder.output import Runner
from hoist.builder.pyversion import Missing, Resolved
from hoist.builder.request import BuildRequest

_ORIGIN_TEXT = {
    "runtime.txt": "specified in runtime.txt",
    ".python-version": "specified in .python-version",
    "Pipfile.lock": "specified in Pipfile.lock",
    "environment.yml": "specified in environment.yml",
    "the previous build": "(same as the previous build)",
    "default": "(the default)",
}


def python_install_dir(uv_cache: Path) -> Path:
    """Where uv puts the Pythons it downloads: beside the uv cache, so per app when apps are isolated
    (as the cache is). Never pruned: a virtualenv keeps pointing at its interpreter."""
    return uv_cache.parent / "python"


def _read(path: Path) -> str | None:
    return path.read_text(errors="replace") if path.is_file() else None


def choose_python(req: BuildRequest, manager: Manager, plan: Plan, runner: Runner) -> tuple[str, str]:
    """Decide the Python version and find (or download) its interpreter; log which and why."""
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
    install_dir = python_install_dir(req.uv_cache)
    known, installed = interpreters.discover_cached(req.uv, req.uv_cache, install_dir,
                                                    req.uv_cache.parent / "python-list.json")
    found = pyversion.resolve(request, known, installed, req.allow_eol)
    origin = _ORIGIN_TEXT[request.origin]
    if isinstance(found, Missing):
        found, fell_back = _download(req, runner, request, found, install_dir)
        if fell_back:
            origin = f"(the newest installed; the default {pyversion.DEFAULT_MINOR} isn't available here)"
    elif request.origin == "default":
        found = Resolved(found.version, found.path, (pyversion.default_warning(found.version),))
    runner.log.topic(f"Using Python {found.version} {origin}")
    for warning in [*warnings, *found.warnings]:
        runner.log.warn(warning)
    return found.version, found.path


def _download(req: BuildRequest, runner: Runner, request: pyversion.VersionRequest, missing: Missing,
              install_dir: Path) -> tuple[Resolved, bool]:
    """Get a missing release with uv; without it, the default falls back and anything else fails."""
    reason = interpreters.download(runner, req.uv, missing.version, install_dir, req.uv_cache, req.env)
    known, installed = interpreters.discover(req.uv, req.uv_cache, install_dir)
    if reason is None:
        found = pyversion.resolve(request, known, installed, req.allow_eol)
        if isinstance(found, Resolved):
            if request.origin == "default":
                found = Resolved(found.version, found.path, (pyversion.default_warning(found.version),))
            return found, False
        reason = f"uv reported it installed, but it is not in {install_dir}"
    if request.origin == "default":
        return pyversion.default_fallback(installed, reason), True
    raise pyversion.unavailable(request, installed, reason)
