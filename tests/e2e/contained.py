"""What the containment tests look at on the real kernel: hoist's cgroup tree for a home, the processes in an
app's cgroups, the processes of a user, and processes found by a marker in their environment."""
from __future__ import annotations

import os
import pwd
import time
from pathlib import Path
from typing import Callable

from hoist.contain.layout import read_layout, tree_name


def tree(home: Path) -> Path:
    """hoist's cgroup tree for `home` in the tracking hierarchy (cgroup v2 here)."""
    layout = read_layout()
    base = layout.v2 if layout.v2 is not None else layout.v1["pids"]
    return base / tree_name(home)


def app_cgroup(home: Path, app: str) -> Path:
    """The app's cgroup: named by its user's uid (`uid.N`), which a rename keeps."""
    user = app_user(home, app)
    return tree(home) / "apps" / (f"uid.{pwd.getpwnam(user).pw_uid}" if user else app)


def units(home: Path, app: str) -> dict[str, set[int]]:
    """Each cgroup of an app's dynos (web.1@ID) -> the pids in it."""
    out: dict[str, set[int]] = {}
    base = app_cgroup(home, app)
    if not base.is_dir():
        return out
    for d in base.iterdir():
        if d.is_dir():
            try:
                out[d.name] = {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except OSError:
                continue
    return out


def in_cgroups(home: Path, app: str) -> set[int]:
    return {p for pids in units(home, app).values() for p in pids}


def _status(pid: str) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def app_user(home: Path, app: str) -> str | None:
    """The system user of `app` under `home` (hoist-APP, or a hashed name when another home has that one)."""
    want = os.path.realpath(home / "apps" / app / "home")  # apps/APP links to apps/.ids/ID
    return next((e.pw_name for e in pwd.getpwall() if os.path.realpath(e.pw_dir) == want), None)


def user_pids(user: str | None) -> set[int]:
    """Live processes (zombies left out) running as `user` (none if the user does not exist)."""
    try:
        uid = pwd.getpwnam(user or "").pw_uid
    except KeyError:
        return set()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = _status(entry)
        except OSError:
            continue
        if int(st["Uid"].split()[0]) == uid and not st["State"].startswith(("Z", "X")):
            found.add(int(entry))
    return found


def marked(marker: str) -> dict[int, str]:
    """pid -> DYNO of live processes whose environment holds `marker` (KEY=VALUE)."""
    want = marker.encode()
    out: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            state = _status(entry)["State"]
        except (OSError, KeyError):
            continue
        if want in env and not state.startswith(("Z", "X")):
            out[int(entry)] = next((e[5:].decode() for e in env if e.startswith(b"DYNO=")), "?")
    return out


def session(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])


def wait(cond: Callable[[], bool], timeout: float = 30, what: object = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what() if callable(what) else what}")
        time.sleep(0.1)
