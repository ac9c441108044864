from __future__ import annotations

import pytest

from hoist.builder.detect import Manager, detect_manager
from hoist.builder.errors import BuildError


@pytest.mark.parametrize(
    "files, manager",
    [
        ({"requirements.txt", "app.py", "setup.py"}, Manager("pip", "requirements.txt")),
        ({"Pipfile", "Pipfile.lock"}, Manager("pipenv", "Pipfile.lock")),
        ({"pyproject.toml", "poetry.lock"}, Manager("poetry", "poetry.lock")),
        ({"pyproject.toml", "uv.lock"}, Manager("uv", "uv.lock")),
        ({"environment.yml"}, Manager("conda", "environment.yml")),
    ],
)
def test_detects_one_manager(files: set[str], manager: Manager) -> None:
    assert detect_manager(files, set()) == manager


@pytest.mark.parametrize(
    "files, venvs, message",
    [
        ({"requirements.txt", "uv.lock"}, set(),
         "^Multiple Python package manager files were found: requirements.txt, uv.lock; keep the one"),
        ({"Pipfile"}, set(), "^A Pipfile was found but no Pipfile.lock; run `pipenv lock`"),
        ({"pyproject.toml"}, set(), "^pyproject.toml was found but no lock file; run `uv lock`"),
        ({"setup.py"}, set(), "^Only setup.py was found.*add a requirements.txt containing `-e .`"),
        ({"app.py"}, set(), "^No Python package manager file was found; add a requirements.txt"),
        ({"requirements.txt"}, {".venv"}, r"^The app contains a virtualenv in .venv/.*`git rm -r --cached .venv`"),
    ],
)
def test_detect_errors(files: set[str], venvs: set[str], message: str) -> None:
    with pytest.raises(BuildError, match=message):
        detect_manager(files, venvs)
