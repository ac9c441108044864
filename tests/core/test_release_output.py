"""The release phase's output is teed into its file; releases without a release phase keep none."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hoist.core.release_output import release_output
from hoist.contracts.release import RunRelease


def _run(types: dict[str, str], d: Path) -> RunRelease:
    return RunRelease(id="r1", version=1, process_types=types, slug_dir=d, env_dir=None, config={})


def test_release_phase_lines_reach_both_the_pusher_and_the_file() -> None:
    d = Path(tempfile.mkdtemp())
    try:
        seen: list[str] = []
        with release_output(d / "out.log", _run({"web": "x", "release": "y"}, d), seen.append) as tee:
            tee("-----> Running release command: y")
            tee("       migrated")
        assert seen == ["-----> Running release command: y", "       migrated"]
        assert (d / "out.log").read_text() == "-----> Running release command: y\n       migrated\n"
        with release_output(d / "none.log", _run({"web": "x"}, d), seen.append) as tee:
            tee("nothing to keep")
        assert not (d / "none.log").exists() and seen[-1] == "nothing to keep"
        # An unwritable place (disk full, a removed app) loses the recording, never the release.
        with release_output(d / "missing" / "out.log", _run({"release": "y"}, d), seen.append) as tee:
            tee("still shown")
        assert seen[-1] == "still shown"
    finally:
        shutil.rmtree(d)
