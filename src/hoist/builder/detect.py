"""Which package manager an app uses (pure over a set of file names)."""
from __future__ import annotations

from dataclasses import dataclass

from hoist.builder.errors import BuildError

MANAGER_FILES: dict[str, str] = {
    "requirements.txt": "pip",
    "Pipfile.lock": "pipenv",
    "poetry.lock": "poetry",
    "uv.lock": "uv",
}


@dataclass(frozen=True)
class Manager:
    """The package manager (pip, pipenv, poetry, uv, conda) and the file that drives it."""

    name: str
    file: str


def detect_manager(files: set[str], venv_dirs: set[str]) -> Manager:
    """Pick the one package manager from the app's top-level file names; fail with a hint otherwise."""
    for d in sorted(venv_dirs):
        raise BuildError(
            f"The app contains a virtualenv in {d}/ (it has a pyvenv.cfg); "
            f"remove it with `git rm -r --cached {d}`, add {d}/ to .gitignore and push again"
        )
    found = [f for f in MANAGER_FILES if f in files]
    if len(found) > 1:
        raise BuildError(
            "Multiple Python package manager files were found: "
            + ", ".join(found)
            + "; keep the one for the package manager you use and delete the others"
        )
    if found:
        return Manager(MANAGER_FILES[found[0]], found[0])
    if "Pipfile" in files:
        raise BuildError(
            "A Pipfile was found but no Pipfile.lock; run `pipenv lock` and commit Pipfile.lock"
        )
    if "environment.yml" in files or "environment.yaml" in files:
        return Manager("conda", "environment.yml" if "environment.yml" in files else "environment.yaml")
    if "pyproject.toml" in files:
        raise BuildError(
            "pyproject.toml was found but no lock file; run `uv lock` (or `poetry lock`) and commit "
            "uv.lock (or poetry.lock), or add a requirements.txt"
        )
    if "setup.py" in files or "setup.cfg" in files:
        raise BuildError(
            "Only setup.py was found, which hoist does not install from; add a requirements.txt "
            "containing `-e .` (plus your dependencies) and push again"
        )
    raise BuildError(
        "No Python package manager file was found; add a requirements.txt listing your "
        "dependencies (e.g. flask and gunicorn), or a uv.lock, poetry.lock or Pipfile.lock"
    )
