"""hoist's own code made reachable for app users when it is installed somewhere they cannot read."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from hoist.dynos.pythons import others_can_reach, reachable_import_paths


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
