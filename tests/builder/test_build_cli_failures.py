"""A failed install says what failed: every unresolvable requirement in one push, the line uv
names a failed build with next to the build's last lines, and hints for old apps."""
from __future__ import annotations

from pathlib import Path

from conftest import BuildFn, write_app

OK = {"Procfile": "web: gunicorn app:app\n", ".python-version": "3.12\n"}
FAILED = " !     Push rejected, failed to compile Python app."

# `pip freeze` in a conda environment, as people push it: local build paths, conda's own packages,
# Anaconda-only builds, and an old MarkupSafe.
CONDA_FREEZE = """alabaster==0.7.12
anaconda-client==1.7.2
backports.functools-lru-cache @ file:///tmp/build/80754af9/backports.functools_lru_cache_1618170165463/work
beautifulsoup4 @ file:///home/linux1/recipes/ci/beautifulsoup4_1610988766420/work
certifi==2020.12.5
conda==4.10.1
Flask==2.0.1
MarkupSafe==1.0
mkl-fft==1.3.0
six==1.15.0
"""


def test_every_unresolvable_requirement_in_one_push(tmp_path: Path, run_build: BuildFn) -> None:
    run = run_build(write_app(tmp_path / "app", {**OK, "requirements.txt": CONDA_FREEZE}), app_home=tmp_path / "home")
    assert run.returncode == 1
    assert ("-----> Install failed; checking the other requirements, so that this push names every problem"
            in run.lines)
    errors = run.error_lines
    markupsafe = errors.index(" !     Failed to build `markupsafe==1.0` (requirements.txt line 8); the last lines of "
                              "its build output:")
    mkl = errors.index(" !     line 9: mkl-fft==1.3.0: no wheel for Python 3.12.1, and no source to build one from")
    assert errors[:markupsafe] == [
        " !     Could not install the packages in requirements.txt:",
        " !     line 2: anaconda-client==1.7.2: no such version on the package index",
        " !     line 3: backports.functools-lru-cache @ file:///tmp/build/80754af9/backports.functools_lru_cache_"
        "1618170165463/work: not found (it is not in this repository)",
        " !     line 4: beautifulsoup4 @ file:///home/linux1/recipes/ci/beautifulsoup4_1610988766420/work: not found "
        "(it is not in this repository)",
        " !     line 6: conda==4.10.1: no such version on the package index",
    ], run.output
    build_tail = errors[markupsafe + 1:mkl]
    assert 1 < len(build_tail) <= 12
    assert build_tail[-1].startswith(" !       ImportError: cannot import name 'Feature' from 'setuptools'")
    assert errors[mkl + 1:] == [
        " !     Hint: anaconda-client is part of conda itself and is not installable from PyPI; delete its line",
        " !     Hint: lines like `pkg @ file:///...` come from `pip freeze` in a conda environment and name paths on "
        "that machine; replace each with `pkg==VERSION` (`pip list --format=freeze` prints them so)",
        " !     Hint: conda is part of conda itself and is not installable from PyPI; delete its line",
        " !     Hint: markupsafe 1.0's setup.py uses setuptools.Feature, removed in setuptools 46 (2020); pin a newer "
        "markupsafe (MarkupSafe==1.1.1 works with the same Flask and Jinja2)",
        " !     Hint: mkl-fft comes from Anaconda's channel, not PyPI; delete its line (numpy from PyPI does not need it)",
        " !     Hint: check the package names and versions in requirements.txt (they must exist on PyPI for Python "
        "3.12.1), fix the file and push again",
        FAILED,
    ], run.output
    assert run.seconds < 60
    assert not (tmp_path / "app" / ".hoist-check-requirements.txt").exists()


def test_a_failed_compile_names_the_package_next_to_the_compiler_lines(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {**OK, "requirements.txt": "six\npsycopg2==2.7.3.2\n"})
    run = run_build(app)
    assert run.returncode == 1
    errors = run.error_lines
    assert errors[:2] == [
        " !     Could not install the packages in requirements.txt:",
        " !     Failed to build `psycopg2==2.7.3.2` (requirements.txt line 2); the last lines of its build output:",
    ]
    assert len(errors) == 2 + 12 + 2, run.output  # the compiler's last 12 lines, the hint, the rejection
    assert any("error: lvalue required as left operand of assignment" in ln for ln in errors[2:14])
    assert errors[-2:] == [
        " !     Hint: psycopg2 2.7.3.2 has no wheel for Python 3.12.1 and does not compile here; replace "
        "`psycopg2==2.7.3.2` with `psycopg2-binary` in requirements.txt (the same module, prebuilt)",
        FAILED,
    ]


def test_old_flask_pinned_alone_gets_todays_dependencies_and_the_build_says_which_pins_fix_it(
        tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {**OK, "requirements.txt": "Flask==1.0.2\nFlask-SQLAlchemy==2.3.2\n"})
    run = run_build(app)
    assert run.returncode == 0, run.output
    warnings = [ln for ln in run.lines if ln.startswith(" !     Warning:")]
    assert warnings == [
        " !     Warning: flask 1.0.2 imports jinja2.Markup (removed in Jinja2 3.1), and jinja2 "
        f"{_version(run.output, 'jinja2')} was installed: the app will fail to start; add `Jinja2<3.1` to "
        "requirements.txt",
        " !     Warning: flask 1.0.2 imports itsdangerous.json (removed in itsdangerous 2.1), and itsdangerous "
        f"{_version(run.output, 'itsdangerous')} was installed: the app will fail to start; add `itsdangerous<2.1` to "
        "requirements.txt",
        " !     Warning: flask 1.0.2 imports werkzeug.wrappers.BaseResponse (removed in Werkzeug 2.1), and werkzeug "
        f"{_version(run.output, 'werkzeug')} was installed: the app will fail to start; add `Werkzeug<2.1` to "
        "requirements.txt",
        " !     Warning: flask-sqlalchemy 2.3.2 imports sqlalchemy.__all__ (gone in SQLAlchemy 2.0), and sqlalchemy "
        f"{_version(run.output, 'sqlalchemy')} was installed: the app will fail to start; add `SQLAlchemy<2` to "
        "requirements.txt",
    ], run.output


def _version(output: str, name: str) -> str:
    return next(ln.split("==")[1] for ln in output.splitlines() if ln.strip().startswith(f"+ {name}=="))
