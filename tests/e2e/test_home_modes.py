"""Every file and directory under HOIST_HOME is readable by hoist alone unless an app's user (or an add-on
server's own user) must read it (issue 18, item 8). A real server as root builds a tree the way it does in
use: a deploy with a release phase, each add-on kind, a backup, a one-off dyno, a second app. Then the test
walks the tree and asks, for every path, which users could read or write it (every directory above it must
let them search, and its own mode must let them read or write), against a short allow-list with a reason for
each exception. It runs while the server runs: modes are right when things are made, not only after the
home is locked down at the next start."""
from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer, make_repo

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="per-app and per-server users need root")

WEB = "import http.server, os\nhttp.server.HTTPServer(('', int(os.environ['PORT'])), http.server.SimpleHTTPRequestHandler).serve_forever()\n"
FILES = {"requirements.txt": "", ".python-version": "3.12\n", "web.py": WEB,
         "Procfile": "release: echo migrating\nweb: python web.py\nworker: sleep 3600\n"}

# Paths that are not this audit's: the internal surfaces (the route table, server.json, the records and
# sockets of what runs) belong to the containment work of the same issue, which tests them itself.
NOT_HERE = ("router", "run", "server.json", "server.json.tmp", ".server.json.tmp")


@dataclass(frozen=True)
class Who:
    name: str
    uid: int
    gids: frozenset[int]


def principals(home: Path) -> list[Who]:
    """Everyone who could matter: each owner in the tree and each member of a group in it, and `others`."""
    uids: set[int] = set()
    gids: set[int] = set()
    for root, dirs, files in os.walk(home):
        for name in [*dirs, *files, "."]:
            st = os.lstat(os.path.join(root, name))
            uids.add(st.st_uid)
            gids.add(st.st_gid)
    for gid in gids:
        try:
            uids |= {pwd.getpwnam(m).pw_uid for m in grp.getgrgid(gid).gr_mem}
        except KeyError:
            pass
    people = [Who("others", 2**31 - 7, frozenset())]
    for uid in uids - {0}:
        entry = pwd.getpwuid(uid)
        member_of = {g.gr_gid for g in grp.getgrall() if entry.pw_name in g.gr_mem}
        people.append(Who(entry.pw_name, uid, frozenset({entry.pw_gid, *member_of})))
    return people


def _may(who: Who, st: os.stat_result, bit: int) -> bool:
    """bit: 4 read, 2 write, 1 search/execute, as the kernel checks owner, then group, then others."""
    if who.uid == st.st_uid:
        return bool(st.st_mode & (bit << 6))
    if st.st_gid in who.gids:
        return bool(st.st_mode & (bit << 3))
    return bool(st.st_mode & bit)


def walk(home: Path) -> Iterator[tuple[str, os.stat_result, list[os.stat_result]]]:
    """(path relative to home, its lstat, the lstat of each directory from home down to its parent)."""
    def go(path: Path, above: list[os.stat_result]) -> Iterator[tuple[str, os.stat_result, list[os.stat_result]]]:
        st = os.lstat(path)
        yield str(path.relative_to(home)) if path != home else "", st, above
        if stat.S_ISDIR(st.st_mode):
            for child in sorted(path.iterdir()):
                yield from go(child, [*above, st])
    yield from go(home, [])


def allowed(rel: str, owners: dict[str, str]) -> tuple[set[str], str]:
    """Who besides hoist may read `rel`, and why."""
    parts = rel.split("/") if rel else []
    if parts[:2] == ["apps", ".ids"] and len(parts) > 2:
        parts = ["apps", *parts[2:]]  # apps/.ids/ID is the app's directory (apps/NAME links to it)
    if parts[:1] == ["pythons"]:
        return {"*"}, "interpreters app users run (the mirror of pyenv's, see dynos/pythons.py)"
    if parts[:2] == ["postgres", "data"]:
        return {"embedded_postgres"}, "PostgreSQL's own data directory (its server runs as that user)"
    if parts[:1] == ["rabbitmq"]:
        return {"hoist_rabbitmq"}, "the RabbitMQ node's own files (it runs as that user)"
    if len(parts) >= 2 and parts[0] == "apps":
        app_user = owners.get(parts[1], "?")
        if len(parts) == 2:
            return {app_user}, "the app's user enters (and lists) its own app directory"
        if parts[2] in ("slugs", "envs", "home", "cache"):
            return {app_user}, "the app's own files: its builds write them, its dynos run them"
        if parts[2] == "addons" and len(parts) >= 4:
            return {owners.get("/".join(parts[:4]), "?")}, "a Redis add-on's files, its own server's alone"
    return set(), "hoist's alone"


@pytest.fixture(scope="module")
def built(workdir: Path) -> Iterator[HoistServer]:
    server = HoistServer(home=workdir / "home", user_home=workdir / "user")
    server.start()
    server.cli("login")
    try:
        repo = make_repo(workdir / "modes", FILES, server.env())
        server.cli("apps:create", "modes", cwd=repo)
        for plan in ("heroku-postgresql", "heroku-redis", "cloudamqp", "scheduler"):
            server.cli("addons:create", plan, "-a", "modes")
        server.push(repo)
        server.cli("ps:scale", "worker=1", "-a", "modes")
        server.cli("pg:backups:capture", "-a", "modes")
        server.cli("run", "-a", "modes", "echo", "one-off")
        server.cli("apps:create", "neighbour")
        server.cli("addons:create", "heroku-redis", "-a", "neighbour")
        yield server
    finally:
        if server.proc and server.proc.poll() is None:
            server.stop()
        remove_app_users(workdir)


def test_every_path_under_the_home_is_readable_only_by_whom_it_must_be(built: HoistServer) -> None:
    home = built.home
    ids = home / "apps" / ".ids"  # each app's directory, by id; apps/NAME is a link the walk does not follow
    owners = {app.name: pwd.getpwuid((app / "home").stat().st_uid).pw_name
              for app in ids.iterdir() if (app / "home").exists()}
    owners |= {"apps/" + str(d.relative_to(ids)): pwd.getpwuid(d.stat().st_uid).pw_name
               for d in ids.glob("*/addons/*") if d.is_dir()}
    people = principals(home)
    wrong = []
    seen = 0
    for rel, st, above in walk(home):
        if rel.split("/")[0] in NOT_HERE or stat.S_ISLNK(st.st_mode) or stat.S_ISSOCK(st.st_mode):
            continue
        seen += 1
        may, why = allowed(rel, owners)
        # Who gets there (every directory above lets them search) and may read or write it, but should not.
        extra = sorted(who.name for who in people if all(_may(who, d, 1) for d in above)
                       and (_may(who, st, 4) or _may(who, st, 2)) and "*" not in may and who.name not in may)
        if extra:
            wrong.append(f"  {rel or '.'}: {stat.filemode(st.st_mode)} {pwd.getpwuid(st.st_uid).pw_name}:"
                         f"{grp.getgrgid(st.st_gid).gr_name}, open to {', '.join(extra)} (should be: {why})")
    assert seen > 200, seen  # the tree is really there (slugs, the cluster, the node, the servers)
    assert not wrong, "paths under HOIST_HOME that others can read or write:\n" + "\n".join(wrong[:60])


def test_the_doors_have_the_modes_the_security_model_names(built: HoistServer) -> None:
    home = built.home

    def mode(rel: str) -> tuple[str, str, int]:
        st = (home / rel).stat()
        return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name, stat.S_IMODE(st.st_mode)
    assert mode(".") == ("root", "root", 0o711)  # others pass through to their own places, never list
    assert mode("apps") == ("root", "root", 0o711)
    owner, group, bits = mode("apps/modes")
    assert (owner, group) == ("root", "hoist-modes") and bits in (0o750, 0o751)  # 1: a Redis user passes
    assert mode("apps/modes/addons") == ("root", "root", 0o711)
    for private in ("hoist.db", "admin-token", "url-key", "tls/ca-key.pem", "postgres/admin-password"):
        if (home / private).exists():
            assert mode(private)[0] == "root" and mode(private)[2] == 0o600, private
    redis_dir = next((home / "apps" / "modes" / "addons").glob("redis-*"))
    owner, _, bits = mode(str(redis_dir.relative_to(home)))
    assert owner.startswith("hoist_redis_") and bits == 0o700
    assert mode("postgres/data")[0] == "embedded_postgres" and mode("postgres/data")[2] == 0o700
