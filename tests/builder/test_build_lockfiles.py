from __future__ import annotations

import pytest

from hoist.builder.errors import BuildError
from hoist.builder.lockfiles import (
    parse_pipfile_lock,
    parse_poetry_lock,
    pipfile_lock_requirements,
    poetry_lock_requirements,
)

PIPFILE_LOCK = """{
  "_meta": {"requires": {"python_version": "3.12"}, "sources": []},
  "default": {
    "six": {"hashes": ["sha256:aaa", "sha256:bbb"], "index": "pypi", "version": "==1.16.0"},
    "colorama": {"version": "==0.4.6", "markers": "sys_platform == 'win32'"},
    "requests": {"extras": ["socks"], "version": "==2.31.0"},
    "mylib": {"git": "https://github.com/x/mylib.git", "ref": "abc123"},
    "local": {"path": ".", "editable": true}
  },
  "develop": {"pytest": {"version": "==8.0.0"}}
}"""


def test_pipfile_lock_default_only_with_markers_hashes_vcs() -> None:
    lines = pipfile_lock_requirements(parse_pipfile_lock(PIPFILE_LOCK))
    assert lines == [
        "colorama==0.4.6 ; sys_platform == 'win32'",
        "-e .",
        "mylib @ git+https://github.com/x/mylib.git@abc123",
        "requests[socks]==2.31.0",
        "six==1.16.0 --hash=sha256:aaa --hash=sha256:bbb",
    ]


def test_pipfile_lock_invalid_json_names_line() -> None:
    with pytest.raises(BuildError, match=r"Pipfile.lock is not valid JSON \(line 2: .*\); regenerate it with `pipenv lock`"):
        parse_pipfile_lock('{\n "default": {,}\n}')


POETRY_2 = """
[[package]]
name = "six"
version = "1.16.0"
groups = ["main"]
markers = "python_version >= \\"3.8\\""
files = [{file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:abc"}]

[[package]]
name = "pytest"
version = "8.0.0"
groups = ["dev"]
files = [{file = "pytest.whl", hash = "sha256:def"}]

[metadata]
lock-version = "2.1"
"""

POETRY_1_CATEGORY = """
[[package]]
name = "six"
version = "1.16.0"
category = "main"

[[package]]
name = "pytest"
version = "8.0.0"
category = "dev"

[metadata]
lock-version = "1.1"

[metadata.files]
six = [{file = "six.whl", hash = "sha256:abc"}]
pytest = [{file = "pytest.whl", hash = "sha256:def"}]
"""

POETRY_LOCK_2_0 = """
[[package]]
name = "requests"
version = "2.31.0"
files = [{file = "r.whl", hash = "sha256:r"}]
[package.dependencies]
urllib3 = ">=1.21"

[[package]]
name = "urllib3"
version = "2.2.0"
files = [{file = "u.whl", hash = "sha256:u"}]

[[package]]
name = "pytest"
version = "8.0.0"
files = [{file = "p.whl", hash = "sha256:p"}]

[[package]]
name = "mylib"
version = "0.1.0"
files = []
[package.source]
type = "git"
url = "https://github.com/x/mylib.git"
reference = "main"
resolved_reference = "deadbeef"

[metadata]
lock-version = "2.0"
"""

PYPROJECT = {"tool": {"poetry": {"dependencies": {"python": "^3.12", "requests": "^2.31", "mylib": {"git": "x"}},
                                 "group": {"dev": {"dependencies": {"pytest": "*"}}}}}}


def test_poetry_2_groups() -> None:
    lines = poetry_lock_requirements(parse_poetry_lock(POETRY_2), {})
    assert lines == ['six==1.16.0 ; python_version >= "3.8" --hash=sha256:abc']


def test_poetry_1_category_and_legacy_hashes() -> None:
    assert poetry_lock_requirements(parse_poetry_lock(POETRY_1_CATEGORY), {}) == ["six==1.16.0 --hash=sha256:abc"]


def test_poetry_lock_2_0_walks_main_dependencies() -> None:
    lines = poetry_lock_requirements(parse_poetry_lock(POETRY_LOCK_2_0), PYPROJECT)
    # A git package has no hash, so no line gets one (pip's hash mode is all or nothing).
    assert lines == [
        "requests==2.31.0",
        "urllib3==2.2.0",
        "mylib @ git+https://github.com/x/mylib.git@deadbeef",
    ]


def test_poetry_invalid_toml() -> None:
    with pytest.raises(BuildError, match="poetry.lock is not valid TOML .*regenerate it with `poetry lock`"):
        parse_poetry_lock("[[package]\nname=")
