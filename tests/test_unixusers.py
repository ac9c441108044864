"""unixusers on the real system (root only): fresh ids, and a stale group of the same name does not stop
a user from being made."""
from __future__ import annotations

import grp
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from hoist import unixusers

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (useradd)")


def test_a_group_left_without_its_user_is_replaced(tmp_path: Path) -> None:
    name = f"hoist-t{uuid.uuid4().hex[:10]}"
    subprocess.run(["groupadd", "--system", name], check=True)  # as a userdel that left the group behind
    stale = grp.getgrnam(name).gr_gid
    try:
        made = unixusers.create(name, tmp_path / "home")
        assert made.name == name and made.uid == made.gid == grp.getgrnam(name).gr_gid != stale
        assert unixusers.FRESH_FROM <= made.uid < unixusers.FRESH_TO  # hoist's fresh range
    finally:
        account = unixusers.lookup(name)
        if account is not None:
            assert unixusers.remove(account) is None
        subprocess.run(["groupdel", name], capture_output=True)
    assert unixusers.lookup(name) is None
