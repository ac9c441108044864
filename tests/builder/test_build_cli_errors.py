"""Apps that must fail, built through the real `python -m hoist.builder`; each checks the exact error."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BuildFn, write_app

OK = {"Procfile": "web: gunicorn app:app\n", "requirements.txt": "six\n", ".python-version": "3.12\n"}
FAILED = " !     Push rejected, failed to compile Python app."


def without(files: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in files.items() if k not in names}


CASES = {
    "bad-procfile": ({**OK, "Procfile": "web: gunicorn app:app\nnonsense\n"},
                     "Procfile line 2 is not `name: command`: 'nonsense'; write each process as e.g. "
                     "`web: gunicorn app:app`"),
    "multiple": ({**OK, "uv.lock": "version = 1\n"},
                 "Multiple Python package manager files were found: requirements.txt, uv.lock; keep the one "
                 "for the package manager you use and delete the others"),
    "pipfile-no-lock": ({**without(OK, "requirements.txt"), "Pipfile": "[packages]\n"},
                        "A Pipfile was found but no Pipfile.lock; run `pipenv lock` and commit Pipfile.lock"),
    "bare-setup-py": ({**without(OK, "requirements.txt"), "setup.py": "from setuptools import setup\n"},
                      "Only setup.py was found, which hoist does not install from; add a requirements.txt "
                      "containing `-e .` (plus your dependencies) and push again"),
    "pyproject-no-lock": ({**without(OK, "requirements.txt"), "pyproject.toml": "[project]\nname='x'\n"},
                          "pyproject.toml was found but no lock file; run `uv lock` (or `poetry lock`) and "
                          "commit uv.lock (or poetry.lock), or add a requirements.txt"),
    "venv-checked-in": ({**OK, "venv/pyvenv.cfg": "home = /usr/bin\n"},
                        "The app contains a virtualenv in venv/ (it has a pyvenv.cfg); remove it with "
                        "`git rm -r --cached venv`, add venv/ to .gitignore and push again"),
    "uv-without-python-version": ({**without(OK, "requirements.txt", ".python-version"), "uv.lock": "version = 1\n",
                                   "pyproject.toml": "[project]\nname='x'\nversion='0'\n"},
                                  "uv projects need a .python-version file; run `uv python pin 3.12` and commit "
                                  ".python-version, then push again"),
    # This machine's newest supported Python is 3.13 (3.14, the default, is not installed), and it has
    # end-of-life 3.6.15 to 3.9.18 under pyenv.
    "eol-runtime-txt": ({**without(OK, ".python-version"), "runtime.txt": "python-3.6.5\n"},
                        "runtime.txt asks for python-3.6.5, which reached end-of-life; delete runtime.txt and put 3.13 in "
                        ".python-version, or, to build on this machine's end-of-life Python 3.6.15 anyway, run "
                        "`hoist config:set HOIST_ALLOW_EOL_PYTHON=1` and push again"),
    "eol-python-version": ({**OK, ".python-version": "3.9\n"},
                           ".python-version asks for 3.9, which reached end-of-life; put 3.13 in .python-version, or, "
                           "to build on this machine's end-of-life Python 3.9.18 anyway, run "
                           "`hoist config:set HOIST_ALLOW_EOL_PYTHON=1` and push again"),
    "eol-opted-in-not-installed": ({**OK, ".python-version": "3.5\n", "env:HOIST_ALLOW_EOL_PYTHON": "1"},
                                   "HOIST_ALLOW_EOL_PYTHON is set, but no Python 3.5 is installed on this machine "
                                   "(end-of-life versions here: 3.6.15, 3.7.16, 3.8.18, 3.9.18); install it on the hoist "
                                   "server (e.g. `pyenv install 3.5`), or put 3.13 in .python-version, then push again"),
    "unknown-minor": ({**OK, ".python-version": "3.99\n"},
                      "Python 3.99 (from .python-version) isn't recognised: no such CPython release exists; "
                      "put an existing version such as 3.13 in .python-version"),
    "unknown-patch": ({**OK, ".python-version": "3.12.99\n"},
                      "Python 3.12.99 (from .python-version) isn't recognised: no such CPython release exists; "
                      "put an existing version such as 3.13 in .python-version"),
    # Heroku's own Django sample asks for 3.14; uv would download it, but this machine reaches only PyPI.
    "missing-minor-offline": ({**OK, ".python-version": "3.14\n"},
                              "Python 3.14 (from .python-version) isn't available on this machine (available: "
                              "3.10.13, 3.11.2, 3.11.7, 3.12.1, 3.13.0) and could not be downloaded (`uv python install "
                              "3.14` failed: could not reach github.com: failed to lookup address information: Name or "
                              "service not known); put `3.13` in .python-version, or install Python 3.14 on the hoist "
                              "server (e.g. `pyenv install 3.14`), then push again"),
    "bad-app-json": ({**OK, "app.json": '{\n  "formation": {\n    "web": 1,,\n  }\n}\n'},
                     "app.json is not valid JSON: line 3 column 14: Expecting property name enclosed in double "
                     "quotes; fix that line (or delete app.json) and push again"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_failing_app(name: str, tmp_path: Path, run_build: BuildFn) -> None:
    spec, message = CASES[name]
    files = {k: v for k, v in spec.items() if not k.startswith("env:")}
    env = {k[len("env:"):]: v for k, v in spec.items() if k.startswith("env:")}
    run = run_build(write_app(tmp_path / "app", files), env=env)
    assert run.returncode == 1
    assert run.error_lines == [" !     " + message, FAILED], run.output


def test_unresolvable_requirement_names_the_line(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {**OK, "requirements.txt": "six==999.0.0\n"})
    run = run_build(app, app_home=tmp_path / "home")
    assert run.returncode == 1
    assert run.error_lines == [
        " !     Could not install the packages in requirements.txt:",
        " !     line 1: six==999.0.0: no such version on the package index",
        " !     Hint: the versions of six that exist are listed at https://pypi.org/project/six/#history",
        " !     Hint: check the package names and versions in requirements.txt (they must exist on PyPI for Python "
        "3.12.1), fix the file and push again",
        FAILED,
    ], run.output
    assert [p.name for p in (tmp_path / "home" / "envs").iterdir()] == []  # no half-built env left


BACKEND = '''
import sys, time
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if "{mode}" == "sleep":
        time.sleep(120)
    for i in range(30):
        print(f"gcc -c native.c line {{i}}", file=sys.stderr)
    print("native.c:1:10: fatal error: Python.h: No such file or directory", file=sys.stderr)
    raise SystemExit(1)
build_sdist = build_wheel
'''
PYPROJECT = '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n' \
            '[project]\nname = "nativepkg"\nversion = "0.1"\n'


def native_app(tmp_path: Path, mode: str) -> Path:
    return write_app(tmp_path / "app", {**OK, "requirements.txt": "./nativepkg\n",
                                        "nativepkg/pyproject.toml": PYPROJECT,
                                        "nativepkg/backend.py": BACKEND.format(mode=mode)})


def test_compile_failure_shows_uv_line_next_to_the_last_lines_and_hint(tmp_path: Path, run_build: BuildFn) -> None:
    app = native_app(tmp_path, "fail")
    run = run_build(app, app_home=tmp_path / "home")
    assert run.returncode == 1
    assert run.error_lines == [
        " !     Could not install the packages in requirements.txt:",
        f" !     Failed to build `nativepkg @ file://{app}/nativepkg`; the last lines of its build output:",
        *[f" !       gcc -c native.c line {i}" for i in range(19, 30)],
        " !       native.c:1:10: fatal error: Python.h: No such file or directory",
        " !     Hint: nativepkg is built from source in this repository; fix the error in its build output above (or "
        "install the system library or compiler it needs on the hoist server), then push again",
        FAILED,
    ], run.output
    assert [p.name for p in (tmp_path / "home" / "envs").iterdir()] == []


def test_timeout_kills_children_and_leaves_no_half_env(tmp_path: Path, run_build: BuildFn) -> None:
    run = run_build(native_app(tmp_path, "sleep"), app_home=tmp_path / "home", timeout=4)
    assert run.returncode == 1
    assert run.error_lines[0] == (" !     Build timed out after 4 s; raise HOIST_BUILD_TIMEOUT on the hoist server "
                                  "(seconds) or make the build faster (e.g. use packages that ship wheels), then push again")
    assert run.seconds < 15
    assert [p.name for p in (tmp_path / "home" / "envs").iterdir()] == []


def test_timeout_in_hook(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {**OK, "bin/pre_compile": "echo start\nsleep 60\n"})
    run = run_build(app, timeout=2)
    assert run.returncode == 1 and "Build timed out after 2 s" in run.error_lines[0]
    assert run.seconds < 10


def test_failing_hook(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {**OK, "bin/post_compile": "echo boom\nexit 3\n"})
    run = run_build(app)
    assert "       boom" in run.lines
    assert run.error_lines[0] == " !     bin/post_compile failed with exit status 3 (its output is above); fix the hook and push again"


def test_killed_build_cleans_its_temp_env(tmp_path: Path, uv_cache: Path) -> None:
    """The server stops a build by signalling its process group; no half env may remain."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import SRC

    app, home = native_app(tmp_path, "sleep"), tmp_path / "home"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "PYTHONPATH": str(SRC)}
    # The machine's TLS/proxy settings: the build installs setuptools from the index before the app's packages.
    env.update({k: v for k, v in os.environ.items() if k.startswith(("SSL_CERT_", "HTTP_PROXY", "HTTPS_PROXY",
                                                                      "NO_PROXY", "http_proxy", "https_proxy"))})
    proc = subprocess.Popen([sys.executable, "-m", "hoist.builder", "--source", str(app), "--app-home", str(home),
                             "--uv-cache", str(uv_cache), "--result", str(tmp_path / "r.json")],
                            env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while not any((home / "envs").glob(".tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode != 0
    assert " !     Build was stopped (interrupted or terminated); push again to retry" in out.splitlines()
    assert list((home / "envs").iterdir()) == []
    assert not (tmp_path / "r.json").exists()
