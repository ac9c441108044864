"""The one way a release's process is specified: environment and spec."""
from __future__ import annotations

from pathlib import Path

from hoist.contracts.release import RunRelease
from hoist.dynos.spawn import release_spec


def _release(tmp_path: Path) -> RunRelease:
    return RunRelease(id="r1", version=1, process_types={"web": "gunicorn app:app"}, slug_dir=tmp_path / "slug",
                      env_dir=tmp_path / "env", config={"GREETING": "hi", "DYNO": "config-cannot-name-it"})


def test_formation_dyno_gets_config_port_and_its_name(tmp_path: Path) -> None:
    spec = release_spec("app", _release(tmp_path), "web.1", "gunicorn app:app", port=5123)
    assert (spec.app, spec.name, spec.command, spec.cwd) == ("app", "web.1", "gunicorn app:app", tmp_path / "slug")
    assert spec.env["GREETING"] == "hi" and spec.env["PORT"] == "5123" and spec.env["DYNO"] == "web.1"
    assert spec.env["PATH"].startswith(f"{tmp_path / 'env'}/bin:") and spec.env["VIRTUAL_ENV"] == str(tmp_path / "env")


def test_one_off_env_wins_over_config_but_never_names_the_dyno(tmp_path: Path) -> None:
    spec = release_spec("app", _release(tmp_path), "run.1234", "bash",
                        extra_env={"GREETING": "override", "DYNO": "web.9"})
    assert spec.env["GREETING"] == "override" and spec.env["DYNO"] == "run.1234" and "PORT" not in spec.env
