"""The system users hoist makes as root (each app's `hoist-APP`, each Redis add-on's `hoist_redis_ID`): created with
a uid that no account and no process holds, above every uid hoist handed out before, and removed only once
nothing runs as them.

A uid is never handed on while anything runs as it: a process left by a destroyed app (started with `setsid
nohup`, daemonized, double-forked) would otherwise read the secrets of the next app given that uid from
/proc/PID/environ. So removal kills every process of the uid (found in /proc, whatever its session or process
group) until none is left, and a new user's uid is always a fresh one.

Fresh uids come from 1879048192-2147352575 (0x70000000-0x7FFDFFFF), which systemd's UIDS-GIDS.md leaves unused:
above the system, regular, dynamic-service and container ranges, so they never meet a uid that a login, a
service or a rootless container's subordinate range (/etc/subuid, 100000 and up) uses."""
from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

FRESH_FROM = 0x70000000
FRESH_TO = 0x7FFE0000
_REAP_S = 15.0  # an orphan's zombie waits for init to reap it (some inits take seconds); userdel refuses until then


class UnixUserError(Exception):
    """A system user could not be created; the message says what to do."""


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: Path


def lookup(name: str) -> Account | None:
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return None
    return Account(name, pw.pw_uid, pw.pw_gid, Path(pw.pw_dir))


def _status(pid: str) -> tuple[set[int], str] | None:
    """(real, effective, saved and filesystem uids; state letter) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    uids: set[int] = set()
    state = ""
    for line in text.splitlines():
        if line.startswith("State:"):
            state = line.split()[1]
        elif line.startswith("Uid:"):
            uids = {int(x) for x in line.split()[1:]}
    return uids, state


def processes_of(uid: int, zombies: bool = False) -> list[int]:
    """Pids of the processes that have `uid` as any of their uids (zombies only if asked: they run nothing)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        status = _status(pid)
        if status is not None and uid in status[0] and (zombies or status[1] not in ("Z", "X")):
            found.append(int(pid))
    return found


def uids_running() -> set[int]:
    """Every uid some process holds right now."""
    held: set[int] = set()
    for pid in os.listdir("/proc"):
        status = _status(pid) if pid.isdigit() else None
        if status is not None:
            held |= status[0]
    return held


def fresh_uid(floor: int = 0) -> int:
    """A uid above `floor` (the highest one hoist handed out) and above every account in hoist's range,
    that no account, group and process holds."""
    taken = {p.pw_uid for p in pwd.getpwall()} | {g.gr_gid for g in grp.getgrall()}
    top = max([floor, FRESH_FROM - 1, *(u for u in taken if FRESH_FROM <= u < FRESH_TO)])
    held = uids_running()
    uid = top + 1
    while uid in taken or uid in held:
        uid += 1
    if uid >= FRESH_TO:
        raise UnixUserError(f"no fresh uid is left below {FRESH_TO} for a hoist system user; remove unused "
                            "hoist users (`getent passwd | grep hoist`)")
    return uid


def create(name: str, home: Path, floor: int = 0) -> Account:
    """A system user `name` and its group, both with a fresh id above `floor`; no login shell, no home created."""
    error = ""
    if lookup(name) is None:
        try:
            grp.getgrnam(name)
            # A group of this name with no user: left by a user removed without it. Its gid is not fresh, and
            # `groupadd` would refuse the name, so `useradd --gid` would not find the new one.
            subprocess.run(["groupdel", name], capture_output=True, text=True, timeout=60)
        except KeyError:
            pass
    for _ in range(5):  # another hoist may take the same uid at the same moment: then the next one
        uid = fresh_uid(floor)
        made = subprocess.run(["groupadd", "--system", "--gid", str(uid), name], capture_output=True, text=True,
                              timeout=60)
        proc = subprocess.run(["useradd", "--system", "--no-log-init", "--no-create-home", "--home-dir", str(home),
                               "--shell", "/usr/sbin/nologin", "--uid", str(uid), "--gid", str(uid), name],
                              capture_output=True, text=True, timeout=60)
        found = lookup(name)
        if found is not None:
            return found
        if made.returncode == 0:
            subprocess.run(["groupdel", name], capture_output=True, timeout=60)
        error = (proc.stderr or made.stderr).strip() or f"useradd exited with status {proc.returncode}"
        floor = uid
    raise UnixUserError(f"could not create the system user {name}: {error}. Check that useradd works here.")


def _kill_from_inside(account: Account) -> None:
    """kill(-1, SIGKILL) from a process of the user's own uid: the kernel signals every process it may signal
    while holding the task list, so none can fork away meanwhile. Best effort: the /proc sweep follows."""
    kill = shutil.which("kill")
    if kill is None:
        return
    try:
        subprocess.run([kill, "-s", "KILL", "--", "-1"], user=account.uid, group=account.gid, extra_groups=[],
                       capture_output=True, timeout=10, stdin=subprocess.DEVNULL, cwd="/")
    except (OSError, subprocess.SubprocessError):
        pass  # e.g. the user is at its process limit, so exec fails: the sweep does it


def kill_all(account: Account, timeout: float = 10.0) -> list[int]:
    """SIGKILL every process running as the user, again and again until none is left (a forking process's
    children are found on the next sweep); return the pids still alive after `timeout`."""
    _kill_from_inside(account)
    deadline = time.monotonic() + timeout
    while True:
        pids = processes_of(account.uid)
        if not pids or time.monotonic() > deadline:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)


def remove(account: Account, timeout: float = 10.0) -> str | None:
    """Kill everything running as the user, then remove it and its group. None when done; otherwise what
    went wrong and what to do (the uid is never handed out again either way)."""
    left = kill_all(account, timeout)
    if left:
        return (f"{len(left)} process(es) of {account.name} (uid {account.uid}) survived SIGKILL (pids "
                f"{', '.join(map(str, left[:10]))}), so the user was kept; stop them, then run "
                f"`userdel {account.name}`")
    deadline = time.monotonic() + _REAP_S
    while processes_of(account.uid, zombies=True) and time.monotonic() < deadline:
        time.sleep(0.1)  # userdel counts zombies as users of the account
    proc = subprocess.run(["userdel", account.name], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 and lookup(account.name) is not None:
        return (f"userdel {account.name} failed: {proc.stderr.strip() or proc.returncode}; run "
                f"`userdel {account.name}` once that is fixed (its uid {account.uid} is never given to another app)")
    try:
        grp.getgrnam(account.name)
        subprocess.run(["groupdel", account.name], capture_output=True, text=True, timeout=60)
    except KeyError:
        pass
    return None
