"""~/.netrc editing (pure) and `hoist logout` through the real CLI."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hoist.cli.auth import remove_netrc_entry, update_netrc
from tests.e2e.harness import SRC

OTHER = "machine github.com\n  login me\n  password gh\n"


def test_update_replaces_only_its_host_and_remove_drops_it() -> None:
    text = update_netrc(OTHER, "localhost", "a@b", "t1")
    assert update_netrc(text, "localhost", "a@b", "t2") == OTHER + "machine localhost\n  login a@b\n  password t2\n"
    assert remove_netrc_entry(text, "localhost") == OTHER
    assert remove_netrc_entry("machine localhost\n  login a\n  password t\n", "localhost") == ""


def test_logout_removes_the_api_hosts_token_and_keeps_the_rest() -> None:
    netrc = Path(tempfile.mkdtemp()) / "netrc"
    netrc.write_text(update_netrc(OTHER, "localhost", "a@b", "hoist_x"))
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(SRC), "HOME": str(netrc.parent), "NETRC": str(netrc),
           "HOIST_API_URL": "http://localhost:5999"}
    for command in ("logout", "auth:logout"):
        r = subprocess.run([sys.executable, "-m", "hoist", command], env=env, capture_output=True, text=True,
                           timeout=60)
        assert (r.returncode, r.stdout) == (0, "Logging out... done\n"), r.stderr
        assert netrc.read_text() == OTHER and oct(netrc.stat().st_mode & 0o777) == "0o600"
