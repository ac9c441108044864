from __future__ import annotations

import pytest

from hoist.builder import pyversion
from hoist.builder.errors import BuildError
from hoist.builder.pyversion import (
    VersionRequest,
    choose_request,
    parse_python_version_file,
    parse_runtime_txt,
    resolve,
    version_from_pipfile_lock,
)

KNOWN = {"3.10.13", "3.11.7", "3.12.0", "3.12.1", "3.12.4", "3.13.0"}
INSTALLED = {"3.11.7": "/py/3.11.7", "3.12.0": "/py/3.12.0", "3.12.1": "/py/3.12.1", "3.8.18": "/py/3.8"}


def test_runtime_txt() -> None:
    assert parse_runtime_txt("python-3.12.4\n") == "3.12.4"
    assert parse_runtime_txt("python-3.12") == "3.12"
    with pytest.raises(BuildError, match="runtime.txt contains 'py3.12'"):
        parse_runtime_txt("py3.12")


def test_python_version_file() -> None:
    assert parse_python_version_file("# pinned\n\n3.12\n") == "3.12"
    assert parse_python_version_file("3.12.4") == "3.12.4"
    with pytest.raises(BuildError, match="is empty"):
        parse_python_version_file("# nothing\n")
    with pytest.raises(BuildError, match="several versions"):
        parse_python_version_file("3.12\n3.11\n")
    with pytest.raises(BuildError, match="asks for 'pypy3.10', which is not a CPython version"):
        parse_python_version_file("pypy3.10")


def test_pipfile_lock_version() -> None:
    assert version_from_pipfile_lock({"_meta": {"requires": {"python_full_version": "3.12.1", "python_version": "3.12"}}}) == "3.12.1"
    assert version_from_pipfile_lock({"_meta": {"requires": {"python_version": "3.11"}}}) == "3.11"
    assert version_from_pipfile_lock({"_meta": {}}) is None


def test_first_match_wins_and_runtime_txt_is_deprecated() -> None:
    req, warnings = choose_request("python-3.11.7", "3.12", "3.13", "3.10", "3.12.1")
    assert req == VersionRequest("3.11.7", "runtime.txt")
    assert warnings == ["runtime.txt is deprecated; delete it and put 3.11 in a .python-version file instead"]
    assert choose_request(None, "3.12", "3.13", None, None)[0].origin == ".python-version"
    assert choose_request(None, None, "3.13", None, None)[0].origin == "Pipfile.lock"
    assert choose_request(None, None, None, "3.11", None)[0].origin == "environment.yml"
    assert choose_request(None, None, None, None, "3.12.1")[0] == VersionRequest("3.12.1", "the previous build")


def test_default_warns() -> None:
    req, warnings = choose_request(None, None, None, None, None)
    assert req == VersionRequest("3.12", "default")
    assert "No Python version was specified" in warnings[0]


def test_eol() -> None:
    with pytest.raises(BuildError, match=r"^runtime.txt asks for python-3.6.5, which reached end-of-life; delete runtime.txt and put 3.12 in .python-version$"):
        choose_request("python-3.6.5", None, None, None, None)
    with pytest.raises(BuildError, match=r"^.python-version asks for 3.9, which reached end-of-life"):
        choose_request(None, "3.9", None, None, None)


def test_resolve_minor_to_newest_installed_patch() -> None:
    assert resolve(VersionRequest("3.12", "x"), KNOWN, INSTALLED) == ("3.12.1", "/py/3.12.1")
    assert resolve(VersionRequest("3.12.0", "x"), KNOWN, INSTALLED) == ("3.12.0", "/py/3.12.0")


def test_resolve_unknown_versions() -> None:
    with pytest.raises(BuildError, match=r"Python 3.99 \(from .python-version\) isn't recognised"):
        resolve(VersionRequest("3.99", ".python-version"), KNOWN, INSTALLED)
    with pytest.raises(BuildError, match=r"Python 3.12.99 .* isn't recognised"):
        resolve(VersionRequest("3.12.99", ".python-version"), KNOWN, INSTALLED)


def test_resolve_exists_but_not_installed() -> None:
    with pytest.raises(BuildError) as exc:
        resolve(VersionRequest("3.12.4", ".python-version"), KNOWN, INSTALLED)
    assert str(exc.value).startswith(
        "Python 3.12.4 (from .python-version) isn't available on this machine (available: 3.11.7, 3.12.0, 3.12.1); "
        "put `3.12` in .python-version"
    )
    with pytest.raises(BuildError, match=r"available: 3.11.7, 3.12.0, 3.12.1\); put `3.12` in"):
        resolve(VersionRequest("3.13", ".python-version"), KNOWN, INSTALLED)


def test_runtime_txt_errors_say_to_delete_it_since_it_wins_over_python_version() -> None:
    with pytest.raises(BuildError, match=r"\(available: 3.11.7, 3.12.0, 3.12.1\); delete runtime.txt and put `3.12` in"):
        resolve(VersionRequest("3.12.4", "runtime.txt"), KNOWN, INSTALLED)
    with pytest.raises(BuildError, match=r"no such CPython release exists; delete runtime.txt and put an existing"):
        resolve(VersionRequest("3.99", "runtime.txt"), KNOWN, INSTALLED)


def test_default_falls_back_to_the_newest_supported_interpreter_here() -> None:
    req = pyversion.VersionRequest(pyversion.DEFAULT_MINOR, "default")
    installed = {"3.9.18": "/py39", "3.11.7": "/py311", "3.10.13": "/py310"}
    assert pyversion.resolve(req, {"3.12.1", "3.11.7", "3.10.13", "3.9.18"}, installed) == ("3.11.7", "/py311")


def test_an_explicit_version_does_not_fall_back() -> None:
    req = pyversion.VersionRequest("3.12", ".python-version")
    with pytest.raises(BuildError, match="isn't available on this machine"):
        pyversion.resolve(req, {"3.12.1", "3.11.7"}, {"3.11.7": "/py311"})
