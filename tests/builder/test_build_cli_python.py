"""Python as Heroku picks it, and further: real builds on this machine's interpreters (3.10.13,
3.11.7, 3.12.1 and 3.13.0, with end-of-life 3.6.15 to 3.9.18 under pyenv; no 3.14, and no route
to uv's Python downloads)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import BuildFn, write_app
from hoist.builder import interpreters, runtime
from hoist.builder.detect import Manager
from hoist.builder.install import Plan
from hoist.builder.output import Log, Runner
from hoist.builder.request import BuildRequest

OK = {"Procfile": "web: gunicorn app:app\n", "requirements.txt": "six\n"}
TUTORIAL_2017 = "Flask==1.0.2\npsycopg2==2.7.3.2\ngunicorn==19.7.1\n"


def env_python(result: dict, code: str) -> str:
    out = subprocess.run([os.path.join(result["env_dir"], "bin", "python"), "-c", code],
                         capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    return out.stdout.strip()


@pytest.mark.parametrize("files", [{"runtime.txt": "python-3.12.0\n"}, {".python-version": "3.12.0\n"}])
def test_an_exact_patch_not_installed_uses_the_newest_installed_patch(tmp_path: Path, run_build: BuildFn,
                                                                     files: dict[str, str]) -> None:
    run = run_build(write_app(tmp_path / "app", {**OK, **files}))
    assert run.returncode == 0, run.output
    origin = next(iter(files))
    assert f"-----> Using Python 3.12.1 specified in {origin}" in run.lines
    assert (f" !     Warning: Python 3.12.0 (from {origin}) isn't installed on this machine; using 3.12.1, the newest "
            "installed 3.12 release. Put 3.12 in .python-version to get the newest 3.12.x") in run.lines
    assert run.result is not None and run.result["python_version"] == "3.12.1"


def test_the_2017_tutorial_builds_on_python_36_when_the_app_opts_in(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {"Procfile": "web: gunicorn app:app\n", "runtime.txt": "python-3.6.2\n",
                                       "requirements.txt": TUTORIAL_2017})
    refused = run_build(app)
    assert refused.error_lines[0] == (
        " !     runtime.txt asks for python-3.6.2, which reached end-of-life; delete runtime.txt and put 3.13 in "
        ".python-version, or, to build on this machine's end-of-life Python 3.6.15 anyway, run "
        "`hoist config:set HOIST_ALLOW_EOL_PYTHON=1` and push again")
    run = run_build(app, env={"HOIST_ALLOW_EOL_PYTHON": "1"})
    assert run.returncode == 0, run.output
    assert run.lines[1:6] == [
        "-----> Using Python 3.6.15 specified in runtime.txt",
        " !     Warning: runtime.txt is deprecated; delete it and put 3.6 in a .python-version file instead",
        " !     Warning: Python 3.6.15 reached end-of-life and gets no security fixes; this app builds on it only "
        "because HOIST_ALLOW_EOL_PYTHON is set. Upgrade when you can: delete runtime.txt and put 3.13 in .python-version",
        " !     Warning: Python 3.6.2 (from runtime.txt) isn't installed on this machine; using 3.6.15, the newest "
        "installed 3.6 release",
        "-----> Installing dependencies with uv (requirements.txt)",
    ]
    assert "       Installing setuptools 59.6.0 (as on Heroku for Python 3.12 and older)" in run.lines
    assert run.result is not None
    assert env_python(run.result, "import sys, flask, psycopg2, gunicorn.util, pkg_resources; "
                                  "print(sys.version.split()[0], flask.__version__, psycopg2.__version__.split()[0])"
                      ) == "3.6.15 1.0.2 2.7.3.2"
    # Every build says it again, the cached one too.
    again = run_build(app, previous=run.result["metadata"], env={"HOIST_ALLOW_EOL_PYTHON": "1"})
    assert "-----> Reusing virtualenv (requirements.txt unchanged)" in again.lines
    assert any("Python 3.6.15 reached end-of-life" in ln for ln in again.lines)


def test_on_python_38_psycopg2_27_does_not_compile_and_the_hint_says_psycopg2_binary(
        tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {**OK, ".python-version": "3.8\n", "requirements.txt": TUTORIAL_2017})
    run = run_build(app, env={"HOIST_ALLOW_EOL_PYTHON": "1"})
    assert run.returncode == 1
    errors = run.error_lines
    assert errors[1] == (" !     Failed to build `psycopg2==2.7.3.2` (requirements.txt line 2); the last lines of its "
                         "build output:")
    assert errors[-2] == (" !     Hint: psycopg2 2.7.3.2 has no wheel for Python 3.8.18 and does not compile here; "
                          "replace `psycopg2==2.7.3.2` with `psycopg2-binary` in requirements.txt (the same module, "
                          "prebuilt)")
    assert " !       error: command '/usr/bin/gcc' failed with exit code 1" in errors


def test_setuptools_for_python_312_and_older_so_gunicorn_20_starts(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {**OK, ".python-version": "3.11\n", "requirements.txt": "gunicorn==20.1.0\n"})
    run = run_build(app)
    assert run.returncode == 0, run.output
    assert "       Installing setuptools 70.3.0 (as on Heroku for Python 3.12 and older)" in run.lines
    assert run.result is not None
    assert env_python(run.result, "import gunicorn.util, setuptools; print(setuptools.__version__)") == "70.3.0"


def test_no_setuptools_on_python_313_and_the_build_says_gunicorn_20_will_not_start(
        tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {**OK, ".python-version": "3.13\n", "requirements.txt": "gunicorn==20.1.0\n"})
    run = run_build(app)
    assert run.returncode == 0, run.output
    assert not any("Installing setuptools" in ln for ln in run.lines)
    assert (" !     Warning: gunicorn 20.1.0 imports pkg_resources when it starts, and this virtualenv has none (hoist "
            "installs setuptools for requirements.txt apps on Python 3.12 and older, as Heroku does; setuptools 81 "
            "and newer has no pkg_resources): add `setuptools<81` to requirements.txt or upgrade to gunicorn 21 or "
            "newer, or the web dyno will fail to boot") in run.lines


def test_a_missing_minor_that_uv_downloads_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The download itself cannot run here (no route to uv's Python builds); its outcome is a seam."""
    installed = {"3.13.0": "/py/3.13.0"}
    downloads: list[tuple[str, Path]] = []

    def discover(uv: str, cache: Path, install_dir: Path | None = None) -> tuple[set[str], dict[str, str]]:
        return {"3.13.0", "3.14.2"}, dict(installed)

    def download(runner: Runner, uv: str, version: str, install_dir: Path, cache: Path, env: dict[str, str]) -> None:
        downloads.append((version, install_dir))
        installed["3.14.2"] = str(install_dir / "cpython-3.14.2/bin/python3.14")

    monkeypatch.setattr(interpreters, "discover", discover)
    monkeypatch.setattr(interpreters, "download", download)
    source = write_app(tmp_path / "app", {})
    req = BuildRequest(source=source, app_home=tmp_path / "home", uv_cache=tmp_path / "cache" / "uv", uv="uv",
                       previous=None, env={})
    out = tmp_path / "out.txt"
    with out.open("w") as stream:
        runner = Runner(Log(stream), None)
        chosen = runtime.choose_python(req, Manager("pip", "requirements.txt"), Plan(Manager("pip", "requirements.txt"), ""),
                                       runner)
    assert downloads == [("3.14", tmp_path / "cache" / "python")]
    assert chosen == ("3.14.2", str(tmp_path / "cache" / "python" / "cpython-3.14.2/bin/python3.14"))
    assert out.read_text().splitlines() == [
        "-----> Using Python 3.14.2 (the default)",
        " !     Warning: No Python version was specified; using the default, Python 3.14. Put 3.14 in a "
        ".python-version file so the version never changes under you",
    ]
