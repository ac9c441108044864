"""hoist's own code made reachable for app users when it is installed somewhere they cannot read."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from hoist.dynos.pythons import compile_builder_code, others_can_reach, reachable_import_paths


def test_unreachable_code_is_hard_linked_and_refreshed_when_it_changes() -> None:
    work = Path(tempfile.mkdtemp(prefix="hoist-pythons-test-"))
    try:
        private = work / "private"  # like /root: 0700
        src = private / "src"
        (src / "hoist").mkdir(parents=True)
        (src / "hoist" / "__init__.py").write_text("VERSION = 1\n")
        private.chmod(0o700)
        work.chmod(0o755)
        mirror = work / "mirror"
        reachable = work / "public"
        reachable.mkdir()

        first = reachable_import_paths(mirror, [str(src), str(reachable)])
        assert first[1] == str(reachable)  # reachable paths are used as they are
        copy = Path(first[0])
        assert copy.parent == mirror / "site" and others_can_reach(copy)
        assert (copy / "hoist" / "__init__.py").read_text() == "VERSION = 1\n"
        assert os.stat(copy / "hoist" / "__init__.py").st_ino == os.stat(src / "hoist" / "__init__.py").st_ino
        assert reachable_import_paths(mirror, [str(src)]) == first[:1]  # unchanged code: the same copy

        time.sleep(0.01)
        new_file = src / "hoist" / "new.py"
        new_file.write_text("X = 2\n")
        os.utime(new_file, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        second = Path(reachable_import_paths(mirror, [str(src)])[0])
        assert second != copy and (second / "hoist" / "new.py").exists()
        assert not copy.exists()  # the stale copy is gone
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_builders_code_is_compiled_ahead_once(tmp_path: Path) -> None:
    tree = tmp_path / "site"
    for name in ("__init__.py", "names.py", "builder/__init__.py", "builder/steps.py", "contracts/build.py",
                 "dynos/other.py"):
        (tree / "hoist" / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / "hoist" / name).write_text("X = 1\n")
    tag = sys.implementation.cache_tag
    compile_builder_code(sys.executable, [str(tree), str(tmp_path / "no-hoist-here")])
    for name in ("__init__", "names", "builder/__init__", "builder/steps", "contracts/build"):
        folder, _, stem = f"hoist/{name}".rpartition("/")
        assert (tree / folder / "__pycache__" / f"{stem}.{tag}.pyc").is_file(), name
    assert not (tree / "hoist" / "dynos" / "__pycache__").exists()  # only what the builder imports
    shutil.rmtree(tree / "hoist" / "builder" / "__pycache__")
    compile_builder_code(sys.executable, [str(tree)])
    assert not (tree / "hoist" / "builder" / "__pycache__").exists()  # once per path and process
