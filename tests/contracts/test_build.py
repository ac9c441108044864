from __future__ import annotations

from pathlib import Path

import pytest

from hoist.contracts.appjson import AppJson, ProcessSpec
from hoist.contracts.build import (
    BuildMetadata, BuildResult, dump_result, parse_result, read_metadata, read_result, write_result,
)


def test_result_round_trips_through_the_file(tmp_path: Path) -> None:
    result = BuildResult(
        process_types={"web": "gunicorn app:app"}, env_dir="/envs/abc", python_version="3.12.1", slug_size=42,
        app_json=AppJson(formation={"web": ProcessSpec(2)}),
        metadata=BuildMetadata(python_version="3.12.1", manager="pip", env_key="abc", recent_envs=("abc",)),
    )
    path = tmp_path / "result.json"
    write_result(path, result)
    assert read_result(path) == result
    assert not (tmp_path / "result.json.tmp").exists()
    assert parse_result(dump_result(result)).to_json()["app_json"]["formation"] == {"web": {"quantity": 2}}


def test_a_result_without_process_types_is_refused() -> None:
    with pytest.raises(ValueError, match="no process types"):
        parse_result('{"env_dir": "/e", "python_version": "3.12.1"}')


def test_previous_metadata_is_read_leniently(tmp_path: Path) -> None:
    path = tmp_path / "previous.json"
    path.write_text('{"metadata": {"env_key": "k", "recent_envs": ["k", 3], "manager": 7}}')
    assert read_metadata(path) == BuildMetadata(env_key="k", recent_envs=("k",))
    path.write_text("not json")
    assert read_metadata(path) is None
    assert read_metadata(tmp_path / "missing.json") is None

