"""`uv python list` remembered between builds while nothing it reads changes (real uv, real interpreters)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from hoist.builder import interpreters


def uv() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def test_the_list_is_remembered_until_a_directory_on_the_path_changes(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = tmp_path / "bin"
    on_path.mkdir()
    monkeypatch.setenv("PATH", f"{on_path}{os.pathsep}{os.environ['PATH']}")
    cache, install_dir, memo = tmp_path / "uv-cache", tmp_path / "python", tmp_path / "python-list.json"

    first = interpreters.discover_cached(uv(), cache, install_dir, memo)
    assert first == interpreters.discover(uv(), cache, install_dir) and first[1]
    assert json.loads(memo.read_text())["installed"] == first[1]

    # The memo is what answers while the key holds: an entry only it knows comes back.
    data = json.loads(memo.read_text())
    data["installed"]["3.99.0"] = sys.executable
    data["stamps"].append(interpreters.file_stamp(sys.executable))
    memo.write_text(json.dumps(data))
    assert "3.99.0" in interpreters.discover_cached(uv(), cache, install_dir, memo)[1]

    # An interpreter added to (or removed from) a directory on the path changes its mtime: uv is asked again.
    (on_path / "python3.99").symlink_to(sys.executable)
    os.utime(on_path, ns=(1, 1))  # a different mtime even on a coarse clock
    again = interpreters.discover_cached(uv(), cache, install_dir, memo)
    assert "3.99.0" not in again[1] and again[1]


def test_an_interpreter_replaced_in_place_is_asked_again(tmp_path: Path) -> None:
    cache, install_dir, memo = tmp_path / "uv-cache", tmp_path / "python", tmp_path / "python-list.json"
    interpreters.discover_cached(uv(), cache, install_dir, memo)
    data = json.loads(memo.read_text())
    fake = tmp_path / "python3.99"
    fake.write_text("v1")
    data["installed"]["3.99.0"] = str(fake)
    data["stamps"].append(interpreters.file_stamp(str(fake)))
    memo.write_text(json.dumps(data))
    assert "3.99.0" in interpreters.discover_cached(uv(), cache, install_dir, memo)[1]
    fake.write_text("version 2")  # same name, same directory entry, other contents
    assert "3.99.0" not in interpreters.discover_cached(uv(), cache, install_dir, memo)[1]
