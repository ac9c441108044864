"""Per-app isolation when hoist runs as root: each app gets its own system
user (builds and dynos run as it), its own directories, and rlimits per dyno.

Layout and ownership (root is hoist):
  HOIST_HOME            root 0711   (others may pass through, not list)
  HOIST_HOME/apps       root 0711
  apps/.ids             root 0711   (apps/APP is a link to apps/.ids/ID, see platform/app_dirs.py)
  apps/APP              root:hoist-APP 0750   (the app's user can enter; no other app), 0751 once an add-on
                        server's own user must pass through to its files
  apps/APP/{slugs,envs,home,cache}   hoist-APP 0700   (written by its builds)
  apps/APP/{repo.git,builds,logs}    root 0700       (hoist's: hooks run as root, so never app-writable)
  apps/APP/addons       root 0711   (each Redis add-on's dir in it is its server's user's alone, 0700)
  HOIST_HOME/pythons    root 0755   interpreters app users can run (see pythons.py)
Everything else under HOIST_HOME (the database, tokens, TLS keys) is root 0700/0600.
"""
from __future__ import annotations

import grp
import hashlib
import os
import pwd
import resource
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hoist import unixusers
from hoist.paths import APP_IDS, Paths
from hoist.state import appusers
from hoist.state.db import Database

USER_PREFIX = "hoist-"
MAX_USER = 32  # useradd's limit for a user name
_APP_OWNED = ("slugs", "envs", "home", "cache")
_HOIST_OWNED = ("repo.git", "builds", "logs")


class IsolationError(Exception):
    """Per-app users cannot be set up; the message says what to do."""


@dataclass(frozen=True)
class RunAs:
    name: str
    uid: int
    gid: int
    home: Path


@dataclass(frozen=True)
class Limits:
    nofile: int
    nproc: int
    memory_mb: int

    def rlimits(self) -> tuple[tuple[int, int, int], ...]:
        """(resource, soft, hard) for the launcher, which sets them after it became the app's user."""
        data = self.memory_mb * 1024 * 1024
        return ((resource.RLIMIT_NOFILE, self.nofile, self.nofile), (resource.RLIMIT_NPROC, self.nproc, self.nproc),
                (resource.RLIMIT_DATA, data, data))


def app_user_name(app: str) -> str:
    """`hoist-APP`, or for long names a truncated one with a hash so distinct apps never share a user."""
    name = USER_PREFIX + app
    if len(name) <= MAX_USER:
        return name
    digest = hashlib.sha256(app.encode()).hexdigest()[:8]
    return f"{USER_PREFIX}{app[:MAX_USER - len(USER_PREFIX) - 9].rstrip('-')}-{digest}"


def lookup(name: str) -> RunAs | None:
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return None
    return RunAs(name, pw.pw_uid, pw.pw_gid, Path(pw.pw_dir))


def same_home(a: Path, b: Path) -> bool:
    """Two spellings of one home: apps/NAME/home (through the app's link) and apps/.ids/ID/home."""
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid, follow_symlinks=False)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.chown(os.path.join(root, n), uid, gid, follow_symlinks=False)


class Isolation:
    """Creates and looks up app users, and keeps app directories owned right."""

    def __init__(self, paths: Paths, limits: Limits, db: Database) -> None:
        self.paths = paths
        self.limits = limits
        self.db = db  # each app's user as made, and the highest uid ever handed out (state/appusers.py)
        self._users: dict[str, RunAs] = {}

    def check_reachable(self) -> None:
        """App users must be able to walk down to their app directory."""
        for parent in [*reversed(self.paths.home.parents)]:
            if not os.stat(parent).st_mode & 0o001:
                raise IsolationError(f"{parent} is not searchable by other users (mode "
                                     f"{oct(os.stat(parent).st_mode & 0o777)}), so per-app users cannot reach "
                                     f"their apps under {self.paths.home}. Run `chmod o+x {parent}` or start "
                                     "hoist with a --home elsewhere (for example /var/lib/hoist).")

    def lock_down_home(self) -> None:
        """Everything directly under the home is root's alone, except that a directory keeps the search bit
        (o+x, never list) an add-on server's user was given to reach its data: a PostgreSQL that outlived the
        last hoist must go on opening its files while this one starts (taking it away makes it PANIC)."""
        home = self.paths.home
        os.chmod(home, 0o711)
        (home / "apps" / APP_IDS).mkdir(parents=True, exist_ok=True)
        os.chmod(home / "apps", 0o711)
        os.chmod(home / "apps" / APP_IDS, 0o711)
        for child in home.iterdir():
            if child.name in ("apps", "pythons") or child.is_symlink():
                continue
            mode = os.stat(child).st_mode
            os.chmod(child, (0o700 | (mode & 0o001)) if child.is_dir() else 0o600)

    def user(self, app: str, new: bool = False) -> RunAs:
        """The app's user: the one recorded for it, or one made now with a fresh uid (`new`: the app was just
        created, so a user of its name is a leftover of a destroyed app, and is removed first)."""
        cached = self._users.get(app)
        if cached is not None:
            return cached
        home = self.paths.app(app) / "home"
        recorded = appusers.get(self.db, app)
        found = unixusers.lookup(recorded[0]) if recorded else None
        if found is None or recorded is None or found.uid != recorded[1] or not same_home(found.home, home):
            found = self._make(app, home, new)
        run_as = RunAs(found.name, found.uid, found.gid, found.home)
        self._users[app] = run_as
        return run_as

    def _make(self, app: str, home: Path, new: bool) -> unixusers.Account:
        digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
        for name in (app_user_name(app), app_user_name(f"{app}-{digest}"),
                     app_user_name(f"{app}-{os.urandom(4).hex()}")):
            found = unixusers.lookup(name)
            if found is not None and not same_home(found.home, home):
                continue  # the same-named app of another hoist home on this machine
            if found is not None and new:
                # Left by a destroyed app of this name: nothing of it may run on beside the new app.
                if unixusers.remove(found) is not None:
                    continue
                found = None
            if found is None:
                try:
                    found = unixusers.create(name, home, appusers.highest_uid(self.db))
                except unixusers.UnixUserError as exc:
                    raise IsolationError(f"{exc} (for app {app})") from None
            # else: made by an older hoist, before users were recorded: it is this app's.
            appusers.record(self.db, app, found.name, found.uid)
            return found
        raise IsolationError(f"no system user could be made for app {app}: hoist-{app} and its alternatives "
                             "are taken by processes that survive SIGKILL; see `ps -u hoist-" + app + "`")

    def rename(self, old: str, new: str) -> None:
        """The app's user takes the app's new name, keeping its uid and gid: files stay its own, and its
        running dynos (which `usermod -l` refuses to rename under) go on as the same user. A user of the
        new name is made on the same ids, then the old name is removed. Blocking: run it in a thread."""
        known = self.user(old)
        home = self.paths.app(old) / "home"
        name = app_user_name(new)
        found = unixusers.lookup(name)
        if found is not None and not same_home(found.home, home):
            name = app_user_name(new + "-" + hashlib.sha256(str(home).encode()).hexdigest()[:12])
            found = unixusers.lookup(name)
        if found is not None and (found.uid, found.gid) != (known.uid, known.gid):
            raise IsolationError(f"the system user {name} exists already (uid {found.uid}); remove it with "
                                 f"`userdel {name}` if no app uses it, then rename again")
        if found is None:
            for argv in (["groupadd", "--non-unique", "--gid", str(known.gid), name],
                         ["useradd", "--system", "--non-unique", "--uid", str(known.uid), "--gid", str(known.gid),
                          "--no-create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
                          "--no-user-group", name]):
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
                if proc.returncode != 0 and unixusers.lookup(name) is None and argv[0] == "useradd":
                    subprocess.run(["groupdel", name], capture_output=True, timeout=60)
                    raise IsolationError(f"could not rename the system user {known.name} to {name}: "
                                         f"{proc.stderr.strip() or proc.returncode}")
        if known.name != name:
            # --force: the old name is in use by the running dynos' processes (they keep the uid).
            subprocess.run(["userdel", "--force", known.name], capture_output=True, text=True, timeout=60)
            _remove_group(known.name, force=True)  # the new user's group has the same gid
        renamed = unixusers.lookup(name)
        assert renamed is not None
        appusers.forget(self.db, old)
        appusers.record(self.db, new, renamed.name, renamed.uid)
        self._users.pop(old, None)
        self._users[new] = RunAs(renamed.name, renamed.uid, renamed.gid, renamed.home)

    def prepare_app(self, app: str, new: bool = False) -> RunAs:
        """Create the user (`new`: for an app just created) and set the ownership and modes of the app's
        directories."""
        run_as = self.user(app, new)
        app_dir = self.paths.app(app)
        app_dir.mkdir(parents=True, exist_ok=True)
        os.chown(app_dir, 0, run_as.gid)
        # Others never list it; the search bit an add-on server's own user was given (o+x, to reach its files
        # under addons/) stays: a running Redis reopens its log by path.
        os.chmod(app_dir, 0o750 | (os.stat(app_dir).st_mode & 0o001))
        for sub in _APP_OWNED:
            d = app_dir / sub
            d.mkdir(exist_ok=True)
            if os.stat(d).st_uid != run_as.uid:
                _chown_tree(d, run_as.uid, run_as.gid)
            os.chmod(d, 0o700)
        for sub in _HOIST_OWNED:
            d = app_dir / sub
            d.mkdir(exist_ok=True)
            os.chmod(d, 0o700)
        (app_dir / "addons").mkdir(exist_ok=True)
        os.chmod(app_dir / "addons", 0o711)  # hoist's; each add-on server's user passes through to its own dir
        return run_as

    def give(self, app: str, path: Path) -> None:
        """Hand a directory hoist made (an unpacked slug, a build's temp dir) to the app's user."""
        run_as = self.user(app)
        _chown_tree(path, run_as.uid, run_as.gid)

    def recorded_uid(self, app: str) -> int | None:
        """The uid of the app's user as recorded, making nothing (None: the app has no user yet, or no more)."""
        cached = self._users.get(app)
        if cached is not None:
            return cached.uid
        recorded = appusers.get(self.db, app)
        return recorded[1] if recorded else None

    def run_as(self, app: str) -> RunAs:
        return self.user(app)

    def forget_app(self, app: str) -> str | None:
        """Kill every process of the app's user (whatever session it put itself in) and remove the user; the
        app's files went with its directory. None when done, else what is left and what to do."""
        self._users.pop(app, None)
        recorded = appusers.get(self.db, app)
        appusers.forget(self.db, app)
        found = unixusers.lookup(recorded[0]) if recorded else None
        if recorded is None or found is None or found.uid != recorded[1]:
            return None
        return unixusers.remove(found)


def _remove_group(name: str, force: bool = False) -> None:
    """The user's own group, if deleting the user left it behind."""
    try:
        grp.getgrnam(name)
    except KeyError:
        return
    subprocess.run(["groupdel", *(["--force"] if force else []), name], capture_output=True, text=True, timeout=60)


def isolation_for(paths: Paths, limits: Limits, db: Database) -> Isolation | None:
    """Isolation when running as root; None (apps share hoist's user) otherwise."""
    return Isolation(paths, limits, db) if os.geteuid() == 0 else None
