from __future__ import annotations

import pytest

from hoist.builder import pyversion
from hoist.builder.errors import BuildError
from hoist.builder.pyversion import (
    Missing,
    Resolved,
    VersionRequest,
    choose_request,
    parse_python_version_file,
    parse_runtime_txt,
    resolve,
    version_from_pipfile_lock,
)

KNOWN = {"3.10.13", "3.11.7", "3.12.0", "3.12.1", "3.12.4", "3.13.0", "3.14.0", "3.14.2"}
INSTALLED = {"3.11.7": "/py/3.11.7", "3.12.0": "/py/3.12.0", "3.12.1": "/py/3.12.1", "3.8.18": "/py/3.8",
             "3.6.15": "/py/3.6"}


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


def test_the_default_is_herokus_for_new_apps() -> None:
    # heroku-buildpack-python v323 (2025-12-05): the default Python for new apps went from 3.13 to 3.14.
    assert pyversion.DEFAULT_MINOR == "3.14"
    assert choose_request(None, None, None, None, None) == (VersionRequest("3.14", "default"), [])
    assert pyversion.default_warning("3.14.2") == (
        "No Python version was specified; using the default, Python 3.14. "
        "Put 3.14 in a .python-version file so the version never changes under you")


def test_resolve_minor_to_newest_installed_patch() -> None:
    assert resolve(VersionRequest("3.12", "x"), KNOWN, INSTALLED) == Resolved("3.12.1", "/py/3.12.1")
    assert resolve(VersionRequest("3.12.0", "x"), KNOWN, INSTALLED) == Resolved("3.12.0", "/py/3.12.0")


def test_an_exact_patch_not_installed_uses_the_newest_installed_patch_with_a_warning() -> None:
    assert resolve(VersionRequest("3.12.4", "runtime.txt"), KNOWN, INSTALLED) == Resolved("3.12.1", "/py/3.12.1", (
        "Python 3.12.4 (from runtime.txt) isn't installed on this machine; using 3.12.1, the newest installed 3.12 "
        "release. Put 3.12 in .python-version to get the newest 3.12.x",))


def test_a_release_with_no_installed_sibling_is_missing_for_uv_to_download() -> None:
    assert resolve(VersionRequest("3.14", ".python-version"), KNOWN, INSTALLED) == Missing("3.14")
    assert resolve(VersionRequest("3.14.2", ".python-version"), KNOWN, INSTALLED) == Missing("3.14.2")
    assert resolve(VersionRequest("3.14", "default"), KNOWN, INSTALLED) == Missing("3.14")
    # uv could not list what exists (offline, old uv): try anyway.
    assert resolve(VersionRequest("3.15", ".python-version"), set(), INSTALLED) == Missing("3.15")


def test_resolve_unknown_versions() -> None:
    with pytest.raises(BuildError, match=r"^Python 3.99 \(from .python-version\) isn't recognised: no such CPython "
                                         r"release exists; put an existing version such as 3.12 in .python-version$"):
        resolve(VersionRequest("3.99", ".python-version"), KNOWN, INSTALLED)
    with pytest.raises(BuildError, match=r"Python 3.12.99 .* isn't recognised"):
        resolve(VersionRequest("3.12.99", ".python-version"), KNOWN, INSTALLED)
    with pytest.raises(BuildError, match=r"no such CPython release exists; delete runtime.txt and put an existing"):
        resolve(VersionRequest("3.99", "runtime.txt"), KNOWN, INSTALLED)


def test_not_downloadable_says_what_is_here_and_what_to_do() -> None:
    err = pyversion.unavailable(VersionRequest("3.14", ".python-version"), INSTALLED, "no network")
    assert str(err) == (
        "Python 3.14 (from .python-version) isn't available on this machine (available: 3.11.7, 3.12.0, 3.12.1) and "
        "could not be downloaded (no network); put `3.12` in .python-version, or install Python 3.14 on the hoist "
        "server (e.g. `pyenv install 3.14`), then push again")
    err = pyversion.unavailable(VersionRequest("3.14.2", "runtime.txt"), INSTALLED, "no network")
    assert "could not be downloaded (no network); delete runtime.txt and put `3.12` in .python-version" in str(err)


def test_the_default_falls_back_to_the_newest_supported_interpreter_here() -> None:
    installed = {"3.9.18": "/py39", "3.11.7": "/py311", "3.10.13": "/py310"}
    assert pyversion.default_fallback(installed, "offline") == Resolved("3.11.7", "/py311", (
        "No Python version was specified, and the default (Python 3.14) isn't installed on this machine and could "
        "not be downloaded (offline); using 3.11.7, the newest installed. Put 3.11 in a .python-version file so the "
        "version never changes under you",))
    with pytest.raises(BuildError, match=r"available: none\) and could not be downloaded \(offline\)"):
        pyversion.default_fallback({"3.9.18": "/py39"}, "offline")


def test_upgrade_target_is_the_default_when_installed_else_the_newest_here() -> None:
    assert pyversion.upgrade_target(INSTALLED) == "3.12"
    assert pyversion.upgrade_target({**INSTALLED, "3.14.0": "/py314"}) == "3.14"
    assert pyversion.upgrade_target({"3.8.18": "/py38"}) == "3.14"


def test_end_of_life_is_refused_with_the_upgrade_and_the_opt_in() -> None:
    with pytest.raises(BuildError) as exc:
        resolve(VersionRequest("3.6.5", "runtime.txt"), KNOWN, INSTALLED)
    assert str(exc.value) == (
        "runtime.txt asks for python-3.6.5, which reached end-of-life; delete runtime.txt and put 3.12 in "
        ".python-version, or, to build on this machine's end-of-life Python 3.6.15 anyway, run "
        "`hoist config:set HOIST_ALLOW_EOL_PYTHON=1` and push again")
    # No interpreter for it here: no opt-in to offer.
    with pytest.raises(BuildError, match=r"^.python-version asks for 3.9, which reached end-of-life; put 3.12 in "
                                         r".python-version$"):
        resolve(VersionRequest("3.9", ".python-version"), KNOWN, INSTALLED)


def test_end_of_life_opted_in_builds_on_the_installed_interpreter_with_warnings() -> None:
    found = resolve(VersionRequest("3.6.5", "runtime.txt"), KNOWN, INSTALLED, allow_eol=True)
    assert found == Resolved("3.6.15", "/py/3.6", (
        "Python 3.6.15 reached end-of-life and gets no security fixes; this app builds on it only because "
        "HOIST_ALLOW_EOL_PYTHON is set. Upgrade when you can: delete runtime.txt and put 3.12 in .python-version",
        "Python 3.6.5 (from runtime.txt) isn't installed on this machine; using 3.6.15, the newest installed 3.6 "
        "release"))
    assert resolve(VersionRequest("3.8", ".python-version"), KNOWN, INSTALLED, allow_eol=True).version == "3.8.18"
    with pytest.raises(BuildError) as exc:
        resolve(VersionRequest("3.7", ".python-version"), KNOWN, INSTALLED, allow_eol=True)
    assert str(exc.value) == (
        "HOIST_ALLOW_EOL_PYTHON is set, but no Python 3.7 is installed on this machine (end-of-life versions here: "
        "3.6.15, 3.8.18); install it on the hoist server (e.g. `pyenv install 3.7`), or put 3.12 in .python-version, "
        "then push again")
