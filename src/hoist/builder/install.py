"""Installing an app's dependencies into a new virtualenv with uv."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# conda (yaml), lockfiles (tomllib) and the failure diagnosis are imported where they are needed: every
# build, and a code-only one above all, starts faster without them (python -X importtime -m hoist.builder).
from hoist.builder.detect import Manager
from hoist.builder.errors import BuildError
from hoist.builder.output import Runner
from hoist.builder.pyversion import version_from_pipfile_lock, version_key

# Heroku's buildpack installs setuptools 70.3.0 with pip for Python 3.12 and older (lib/pip.sh), so
# apps written for it may import pkg_resources without asking for setuptools (gunicorn 19 and 20 do).
# Python 3.6 and 3.7 (end-of-life, opted in) get the last setuptools that supports them.
SETUPTOOLS = {(3, 6): "59.6.0", (3, 7): "68.0.0"}
SETUPTOOLS_DEFAULT = "70.3.0"
SETUPTOOLS_NEWEST_PYTHON = (3, 12)


@dataclass
class Plan:
    """What to install: the manager, the content that keys the env, and derived requirement lines."""

    manager: Manager
    content: str
    requirements: list[str] | None = None
    python: str | None = None
    unmapped: list[str] = field(default_factory=list)


def plan_install(source: Path, manager: Manager) -> Plan:
    """Read the manager's file(s) and work out what will be installed."""
    text = (source / manager.file).read_text(errors="replace")
    if manager.name in ("pipenv", "poetry"):
        from hoist.builder import lockfiles
    if manager.name == "pipenv":
        lock = lockfiles.parse_pipfile_lock(text)
        reqs = lockfiles.pipfile_lock_requirements(lock)
        return Plan(manager, "\n".join(reqs), reqs, version_from_pipfile_lock(lock))
    if manager.name == "poetry":
        lock = lockfiles.parse_poetry_lock(text)
        pyproject: dict[str, object] = {}
        if (source / "pyproject.toml").is_file():
            import tomllib

            try:
                pyproject = tomllib.loads((source / "pyproject.toml").read_text())
            except tomllib.TOMLDecodeError as exc:
                raise BuildError(f"pyproject.toml is not valid TOML ({exc}); fix it and push again") from None
        reqs = lockfiles.poetry_lock_requirements(lock, pyproject)
        return Plan(manager, "\n".join(reqs), reqs)
    if manager.name == "conda":
        from hoist.builder import conda

        env = conda.parse_environment_yml(text)
        return Plan(manager, "\n".join(env.requirements), env.requirements, env.python, env.unmapped)
    return Plan(manager, text)


def uv_env(base: dict[str, str], uv_cache: Path) -> dict[str, str]:
    """Environment for uv: the build env plus the shared cache, no Python downloads, hard links."""
    env = dict(base)
    env.update({
        "UV_CACHE_DIR": str(uv_cache),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON_PREFERENCE": "only-system",
        "UV_LINK_MODE": "hardlink",
        "UV_NO_PROGRESS": "1",
        "NO_COLOR": "1",
    })
    # Apps written for Heroku's pip set private indexes with the PIP_ names; uv reads UV_ ones.
    for pip_name, uv_name in (("PIP_INDEX_URL", "UV_INDEX_URL"), ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL")):
        if pip_name in env and uv_name not in env:
            env[uv_name] = env[pip_name]
    env.pop("VIRTUAL_ENV", None)
    return env


def create_env(runner: Runner, uv: str, python: str, target: Path, env: dict[str, str]) -> None:
    """Make an empty relocatable venv at target (it is renamed into place afterwards)."""
    res = runner.run([uv, "venv", "--relocatable", "--python", python, "--no-config", str(target)],
                     cwd=target.parent, env=env, echo=False)
    if res.returncode != 0:
        raise BuildError(
            "Could not create the virtualenv:\n" + "\n".join(res.tail(10))
            + "\nCheck the Python installation on the hoist server, then push again"
        )


def setuptools_pin(python_version: str) -> str | None:
    """The setuptools version installed for requirements.txt apps, as Heroku does; None for Python 3.13+."""
    minor = version_key(python_version)[:2]
    if minor > SETUPTOOLS_NEWEST_PYTHON:
        return None
    return SETUPTOOLS.get((minor[0], minor[1]), SETUPTOOLS_DEFAULT)


def install(runner: Runner, uv: str, plan: Plan, source: Path, target: Path, python: str, env: dict[str, str],
            python_version: str = "") -> None:
    """Install the plan's packages into the venv at target."""
    venv_python = str(target / "bin" / "python")
    text: str | None = None
    if plan.manager.name == "uv":
        env = dict(env, UV_PROJECT_ENVIRONMENT=str(target))
        argv = [uv, "sync", "--frozen", "--no-default-groups", "--no-install-project", "--python", python]
    elif plan.requirements is not None:
        reqs_file = target / "hoist-requirements.txt"
        reqs_file.write_text("\n".join(plan.requirements) + "\n")
        # Lock files are complete, so sync installs exactly them; conda deps still need resolving.
        if plan.manager.name == "conda":
            argv = [uv, "pip", "install", "--python", venv_python, "-r", str(reqs_file)]
            text = reqs_file.read_text()
        else:
            argv = [uv, "pip", "sync", "--python", venv_python, str(reqs_file)]
    else:
        argv = [uv, "pip", "install", "--python", venv_python, "-r", plan.manager.file]
        text = plan.content
    if plan.requirements == [] and plan.manager.name != "uv":
        runner.log.info("No packages to install")
        return
    if plan.manager.name in ("pip", "conda"):
        install_setuptools(runner, uv, venv_python, python_version, source, env)
    res = runner.run(argv, cwd=source, env=env, hide=internal_path_line)
    if res.returncode != 0:
        from hoist.builder import diagnose, failures

        first = failures.first_problem(res.lines, python_version)
        if first is None:
            raise diagnose.unparsed_error(plan.manager.file, res)
        found = diagnose.collect(runner, uv, text, first, python_version, source, venv_python, env)
        raise diagnose.install_error(plan.manager.file, found, python_version)


def install_setuptools(runner: Runner, uv: str, venv_python: str, python_version: str, source: Path,
                       env: dict[str, str]) -> None:
    """setuptools first, as Heroku's pip install does: a version the app pins replaces it."""
    pin = setuptools_pin(python_version) if python_version else None
    if pin is None:
        return
    runner.log.info(f"Installing setuptools {pin} (as on Heroku for Python 3.12 and older)")
    res = runner.run([uv, "pip", "install", "--python", venv_python, f"setuptools=={pin}"], cwd=source, env=env,
                     echo=False)
    if res.returncode != 0:
        from hoist.builder import failures

        shown = "\n".join(ln.strip() for ln in failures.error_block(res.lines) or res.tail(10))
        raise BuildError(f"Could not install setuptools {pin}:\n{shown}\nCheck that the hoist server reaches "
                         "the package index (PyPI, or UV_INDEX_URL), then push again")


def internal_path_line(line: str) -> bool:
    """uv's `Using Python 3.12.1 environment at: <hoist's temp env path>`: noise for the pusher."""
    return line.startswith("Using ") and " environment at: " in line


def site_packages_has(env_dir: Path, package: str) -> bool:
    """Whether an import package is installed in the env (checked without starting Python)."""
    return any((p / package / "__init__.py").is_file() for p in env_dir.glob("lib/python*/site-packages"))


def build_env(base: dict[str, str], env_dir: Path | None) -> dict[str, str]:
    """Environment for hooks and collectstatic: the build env with the app's venv activated."""
    env = dict(base)
    if env_dir is not None:
        env["VIRTUAL_ENV"] = str(env_dir)
        env["PATH"] = str(env_dir / "bin") + os.pathsep + env.get("PATH", "")
    return env
