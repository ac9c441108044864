"""A push without a Procfile, or without a `web` process, builds and releases as on Heroku: with
a warning, and no web dyno until one is declared."""
from __future__ import annotations

from pathlib import Path

from conftest import BuildFn, write_app

APP = {"requirements.txt": "six\n", ".python-version": "3.12\n"}


def test_no_procfile_builds_with_herokus_warning(tmp_path: Path, run_build: BuildFn) -> None:
    run = run_build(write_app(tmp_path / "app", APP))
    assert run.returncode == 0, run.output
    assert run.lines[:3] == [
        "-----> Python app detected",
        " !     Warning: Your application is missing a Procfile. This file tells hoist how to run your application.",
        " !     Until it declares a `web` process the app has no web dyno, and requests get H14 (no web dynos "
        "running); add a Procfile with a line such as `web: gunicorn app:app`, commit it and push again",
    ]
    assert "       Process types: (none)" in run.lines
    assert run.result is not None and run.result["process_types"] == {}


def test_a_procfile_without_web_builds_with_a_warning(tmp_path: Path, run_build: BuildFn) -> None:
    run = run_build(write_app(tmp_path / "app", {**APP, "Procfile": "worker: python w.py\n"}))
    assert run.returncode == 0, run.output
    assert (" !     Warning: The Procfile declares no `web` process (found: worker), so the app has no web dyno and "
            "requests get H14 (no web dynos running); add a line such as `web: gunicorn app:app` if it should serve "
            "HTTP") in run.lines
    assert run.result is not None and run.result["process_types"] == {"worker": "python w.py"}
