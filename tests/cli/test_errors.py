"""The real `hoist` CLI in a subprocess: an error after `Doing X... ` ends that line first."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from tests.e2e.harness import SRC, free_port


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(SRC), "HOME": tempfile.mkdtemp(),
           "HOIST_API_KEY": "hoist_x", "HOIST_API_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens
    return subprocess.run([sys.executable, "-m", "hoist", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_an_error_after_a_progress_line_ends_that_line() -> None:
    r = run_cli("rollback", "v3", "-a", "notes")
    assert r.returncode == 1
    assert r.stdout == "Rolling back notes to v3... !\n"
    assert r.stderr.startswith(" !    cannot reach the hoist API at http://127.0.0.1:")


def test_an_error_with_nothing_printed_adds_nothing_to_stdout() -> None:
    r = run_cli("ps", "-a", "notes")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith(" !    cannot reach the hoist API")
