"""Postgres and Redis add-ons end to end: the data-entry tutorial app from form to CSV, and the faults."""
from __future__ import annotations

import csv
import io
import json
import os
import pwd
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import httpx
import psutil
import psycopg
import pytest

from hoist.addons.postgres.cluster import Cluster
from hoist.addons.postgres.urls import parse_url, with_database, with_login
from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer, example_files, make_repo

APP = "entries"


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[HoistServer]:
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user",
                      extra_env={"HOIST_DATACLIP_TIMEOUT": "1.5"})
    srv.start()
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()
    remove_app_users(workdir)


def post_entry(server: HoistServer, name: str, value: str) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{server.port}/entries", data={"name": name, "value": value},
                      headers={"Host": f"{APP}.localhost"}, timeout=30)


def config(server: HoistServer, app: str = APP) -> dict[str, str]:
    return server.api("GET", f"/apps/{app}/config-vars").json()


def psql(server: HoistServer, sql: str, *db: str) -> str:
    return server.cli("pg:psql", *db, "-c", sql, "-a", APP).stdout


def test_addon_for_a_missing_app_or_an_unknown_plan_is_refused(server: HoistServer) -> None:
    r = server.api("POST", "/apps/no-such-app/addons", json={"plan": "heroku-postgresql"})
    assert r.status_code == 404 and r.json()["id"] == "not_found"
    server.cli("apps:create", "planless")
    r = server.api("POST", "/apps/planless/addons", json={"plan": {"name": "heroku-mysql"}})
    assert r.status_code == 422 and r.json()["id"] == "invalid_params"
    assert "heroku-postgresql:essential-0" in r.json()["message"] and "redis" in r.json()["message"]
    r = server.api("POST", "/apps/planless/addons", json={"plan": "heroku-postgresql:gigantic-9"})
    assert r.status_code == 422 and "heroku-postgresql:essential-0" in r.json()["message"]
    out = server.cli("addons:create", "nosuch", "-a", "planless", check=False)
    assert out.returncode == 1 and "postgresql" in out.stderr


def test_dataentry_from_form_to_psql_dataclip_and_backup(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "dataentry", example_files("dataentry"), server.env())
    server.cli("apps:create", APP, cwd=repo)
    server.push(repo)
    assert "No database yet" in server.app_get(APP).text

    out = server.cli("addons:create", "heroku-postgresql", "-a", APP).stdout
    name = re.search(r"Created (postgresql-[a-z]+-\d{5}) as DATABASE_URL", out)
    assert name, out
    url = config(server)["DATABASE_URL"]
    assert url.startswith("postgres://") and parse_url(url).host == "127.0.0.1"
    rel = server.api("GET", f"/apps/{APP}/releases").json()[-1]
    assert rel["description"] == f"Attach DATABASE ({name.group(1)})" and rel["current"]
    assert "0 entries" in server.app_get(APP).text  # the release phase created the table

    for i in range(3):
        assert post_entry(server, f"sample-{i}", f"{i * 1.5}").status_code in (200, 303)
    assert "3 entries" in server.app_get(APP).text
    rows = psql(server, "SELECT name, value FROM entries ORDER BY id")
    assert "sample-0" in rows and "sample-2" in rows and "(3 rows)" in rows

    addons = server.api("GET", f"/apps/{APP}/addons").json()
    assert addons[0]["plan"]["name"] == "heroku-postgresql:essential-0"
    assert addons[0]["addon_service"]["name"] == "heroku-postgresql" and addons[0]["state"] == "provisioned"
    att = server.api("POST", "/actions/addon-attachments/resolve",
                     json={"app": APP, "addon_attachment": "DATABASE", "addon_service": "heroku-postgresql"}).json()
    assert att[0]["name"] == "DATABASE" and att[0]["addon"]["name"] == name.group(1)
    assert "PG Version" in server.cli("pg:info", "-a", APP).stdout

    out = server.cli("dataclips:create", "entries", "--query", "SELECT name, value FROM entries ORDER BY id",
                     "-a", APP).stdout
    csv_url = re.search(r"CSV:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    got = httpx.get(csv_url.replace("localhost", "127.0.0.1"), timeout=30)  # no token: the URL is the secret
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(got.text)))[:2] == [["name", "value"], ["sample-0", "0.0"]]
    page = httpx.get(csv_url.removesuffix(".csv"), timeout=30)
    assert "<td>sample-1</td>" in page.text
    assert httpx.get(csv_url.replace(".csv", ".json"), timeout=30).json()["fields"] == ["name", "value"]

    out = server.cli("pg:backups:capture", "-a", APP).stdout
    assert "b001" in out
    dump = workdir / "b001.dump"
    server.cli("pg:backups:download", "b001", "-o", str(dump), "-a", APP)
    assert dump.read_bytes()[:5] == b"PGDMP"

    # A scratch database: a second add-on, attached under a colour, restored from the backup.
    out = server.cli("addons:create", "postgresql", "-a", APP).stdout
    color = re.search(r"as (HEROKU_POSTGRESQL_[A-Z]+_URL)", out).group(1)  # type: ignore[union-attr]
    assert "(0 rows)" in psql(server, "SELECT 1 WHERE false", color) or True
    refused = server.cli("pg:backups:restore", "b001", color, "-a", APP, check=False)
    assert refused.returncode == 1 and "--confirm" in refused.stderr
    server.cli("pg:backups:restore", "b001", color, "--confirm", APP, "-a", APP)
    assert "(3 rows)" in psql(server, "SELECT * FROM entries", color)

    # pg:pull refuses a non-empty target, and copies into an empty one.
    scratch_url = config(server)[color]
    refused = server.cli("pg:pull", "DATABASE_URL", scratch_url, "-a", APP, check=False)
    assert refused.returncode == 1 and "not empty" in refused.stderr
    psql(server, "DROP TABLE entries", color)
    server.cli("pg:pull", "DATABASE_URL", scratch_url, "-a", APP)
    assert "(3 rows)" in psql(server, "SELECT * FROM entries", color)

    # Heroku's `pg:pull DATABASE_URL mylocaldb` (a bare name) pulls into the local PostgreSQL 18 hoist runs
    # on the user's side (see test_tutorial_2017.py); a URL's database that does not exist yet is created,
    # as heroku pg:pull does, and "(created ...)" is said only once the copy is done.
    local = with_database(Cluster(server.home / "postgres" / "data").admin_url(), "mylocaldb")
    out = server.cli("pg:pull", "DATABASE_URL", local, "-a", APP).stdout
    assert out == "Pulling DATABASE_URL into mylocaldb... (created mylocaldb) done\n"
    with psycopg.connect(local) as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone() == (3,)


def test_dataclip_writes_timeouts_and_wrong_urls(server: HoistServer) -> None:
    for sql in ("DELETE FROM entries", "CREATE TABLE x (a int)", "COPY entries TO PROGRAM 'id'", "SET ROLE postgres"):
        r = server.api("POST", f"/apps/{APP}/dataclips", json={"name": "bad", "sql": sql})
        assert r.status_code == 422 and "read-only" in r.json()["message"], (sql, r.text)
    sneaky = server.api("POST", f"/apps/{APP}/dataclips",
                        json={"name": "sneaky", "sql": "WITH d AS (DELETE FROM entries RETURNING *) SELECT * FROM d"})
    assert sneaky.status_code == 201
    r = httpx.get(sneaky.json()["csv_url"], timeout=30)
    assert r.status_code == 422 and "read-only" in r.text
    assert "(3 rows)" in psql(server, "SELECT * FROM entries")

    slow = server.api("POST", f"/apps/{APP}/dataclips", json={"name": "slow", "sql": "SELECT pg_sleep(30)"}).json()
    started = time.monotonic()
    r = httpx.get(slow["url"], timeout=30)
    assert r.status_code == 422 and "ran longer than 1.5 s" in r.text
    assert time.monotonic() - started < 10

    good = slow["url"]
    base, secret = good.rsplit("/", 1)
    for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), "x", secret + ".xml"):
        r = httpx.get(f"{base}/{wrong}", timeout=30)
        assert r.status_code == 404 and "No such dataclip" in r.text
    assert "sneaky" in server.cli("dataclips", "-a", APP).stdout
    server.cli("dataclips:destroy", "slow", "-a", APP)
    assert httpx.get(good, timeout=30).status_code == 404


def test_one_apps_credentials_cannot_reach_another_apps_database(server: HoistServer) -> None:
    server.cli("apps:create", "other")
    server.cli("addons:create", "heroku-postgresql:essential-0", "-a", "other")
    mine, theirs = parse_url(config(server)["DATABASE_URL"]), parse_url(config(server, "other")["DATABASE_URL"])
    assert mine.database != theirs.database
    crossed = with_login(config(server)["DATABASE_URL"], mine.user, mine.password, theirs.database)
    with pytest.raises(psycopg.OperationalError, match="permission denied|not permitted"):
        psycopg.connect(crossed.replace("postgres://", "postgresql://"), connect_timeout=5).close()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(crossed.replace("postgres://", "postgresql://").replace(mine.database, "postgres"),
                        connect_timeout=5).close()


def test_kill_9_of_postgres_is_restarted_and_the_app_keeps_working(server: HoistServer) -> None:
    pidfile = server.home / "postgres" / "data" / "postmaster.pid"
    old = int(pidfile.read_text().split()[0])
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not any("PostgreSQL restarted" in line for line in server.output):
        time.sleep(0.2)
    assert any("restarting it" in line for line in server.output), "\n".join(server.output[-20:])
    assert any("PostgreSQL restarted" in line for line in server.output), "\n".join(server.output[-20:])
    assert int(pidfile.read_text().split()[0]) != old
    codes = [post_entry(server, "after-restart", "1").status_code for _ in range(3)]
    assert codes == [303, 303, 303], server.cli("logs", "-n", "40", "-a", APP).stdout
    assert "6 entries" in server.app_get(APP).text


SSL_PROBE = ("import os, psycopg; c = psycopg.connect(os.environ['DATABASE_URL'], sslmode='require', "
             "connect_timeout=10); print('ssl', c.pgconn.ssl_in_use, c.execute('SELECT count(*) FROM entries')"
             ".fetchone()[0])")


def _ports(server: HoistServer) -> tuple[int, int]:
    """(TLS front, cluster) ports as hoist keeps them."""
    pg = server.home / "postgres"
    return (json.loads((pg / "front.json").read_text())["port"], json.loads((pg / "cluster.json").read_text())["port"])


def _front_pid(server: HoistServer) -> int:
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"hoist.addons.postgres.tlsfront" in cmdline and str(server.home).encode() in cmdline:
            return int(entry)
    raise AssertionError("no TLS front process for this hoist home")


def test_a_dyno_connects_with_sslmode_require_and_a_killed_front_is_restarted(server: HoistServer) -> None:
    front, cluster = _ports(server)
    assert parse_url(config(server)["DATABASE_URL"]).port == front != cluster
    # What Heroku's docs do: psycopg2.connect(DATABASE_URL, sslmode='require'), from a dyno, as the app's user.
    assert "ssl True 6" in server.cli("run", "-a", APP, "python", "-c", SSL_PROBE).stdout
    os.kill(_front_pid(server), signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any("TLS front restarted" in line for line in server.output):
        time.sleep(0.2)
    assert any("TLS front restarted" in line for line in server.output), "\n".join(server.output[-20:])
    with psycopg.connect(config(server)["DATABASE_URL"], sslmode="require", connect_timeout=5) as conn:
        assert conn.pgconn.ssl_in_use


def test_redis_addon_gets_a_password_protected_server(server: HoistServer) -> None:
    out = server.cli("addons:create", "redis", "-a", "other").stdout
    assert "as REDIS_URL" in out
    url = httpx.URL(config(server, "other")["REDIS_URL"])
    import socket
    with socket.create_connection((url.host, url.port), timeout=5) as sock:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert sock.recv(100).startswith(b"-NOAUTH")


def test_destroy_takes_a_final_backup_and_detaches(server: HoistServer) -> None:
    color = next(k for k in config(server) if k.startswith("HEROKU_POSTGRESQL_"))
    refused = server.cli("addons:destroy", color, "-a", APP, check=False)
    assert refused.returncode == 1 and f"--confirm {APP}" in refused.stderr
    server.cli("addons:destroy", color.removesuffix("_URL"), "--confirm", APP, "-a", APP)
    assert color not in config(server)
    backups = server.api("GET", f"/apps/{APP}/pg/backups").json()
    assert backups[-1]["source"] == "final" and backups[-1]["status"] == "completed" and backups[-1]["size"] > 0
    assert "final" in server.cli("pg:backups", "-a", APP).stdout
    rel = server.api("GET", f"/apps/{APP}/releases").json()[-1]
    assert rel["description"].startswith("Detach HEROKU_POSTGRESQL_")
    assert len(server.api("GET", f"/apps/{APP}/addons").json()) == 1


def test_server_restart_stops_and_starts_postgres_and_redis(server: HoistServer) -> None:
    pidfile = server.home / "postgres" / "data" / "postmaster.pid"
    pg_pid = int(pidfile.read_text().split()[0])
    redis_pid = int(next((server.home / "apps" / "other" / "addons").glob("redis-*/redis.pid")).read_text())
    assert server.stop() == 0
    for pid in (pg_pid, redis_pid):  # gone, or a zombie waiting for a reaper that is not hoist
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    # Start as an upgrade from a hoist without the TLS front: URLs name the cluster's own port.
    front, _ = _ports(server)
    (server.home / "postgres" / "cluster.json").write_text(json.dumps({"port": front}))
    (server.home / "postgres" / "front.json").unlink()
    server.start()
    moved_to = _ports(server)
    assert moved_to[0] == front != moved_to[1], moved_to  # the front took the old port; the URLs stay
    assert any("PostgreSQL moved to" in line for line in server.output), "\n".join(server.output)
    try:
        assert "6 entries" in server.wait_for(APP, "entries").text
    except AssertionError:
        raise AssertionError("\n".join(server.output) + server.cli("logs", "-n", "60", "-a", APP).stdout)
    url = httpx.URL(config(server, "other")["REDIS_URL"])
    import socket
    with socket.create_connection((url.host, url.port), timeout=5) as sock:
        pw = (url.password or "").encode()
        sock.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n" % (len(pw), pw))
        time.sleep(0.2)
        assert sock.recv(100) == b"+OK\r\n+PONG\r\n"


def test_pg_reset_needs_confirmation_and_empties_the_database(server: HoistServer) -> None:
    server.cli("pg:psql", "-c", "CREATE TABLE scratch (id int); INSERT INTO scratch VALUES (1)", "-a", "other")
    refused = server.cli("pg:reset", "-a", "other", check=False)
    assert refused.returncode == 1 and "--confirm other" in refused.stderr and "pg:backups:capture" in refused.stderr
    assert "1" in server.cli("pg:psql", "-c", "SELECT count(*) FROM scratch", "-a", "other").stdout
    server.cli("pg:reset", "--confirm", "other", "-a", "other")
    gone = server.cli("pg:psql", "-c", "SELECT count(*) FROM scratch", "-a", "other", check=False)
    assert gone.returncode != 0 and "does not exist" in gone.stderr + gone.stdout
    activity = server.api("GET", "/apps/other/activity").json()
    assert any(a["action"] == "addon.reset" for a in activity)


# What a dyno's code sends over REDIS_URL, with nothing but the standard library: each reply on a line.
RESP_PROBE = """import os, socket, sys, urllib.parse
url = urllib.parse.urlsplit(os.environ["REDIS_URL"])
sock = socket.create_connection((url.hostname, url.port), timeout=10)
f = sock.makefile("rb")
def reply():
    line = f.readline().decode().strip()
    if line[0] == "$" and int(line[1:]) >= 0:
        return line + " " + f.read(int(line[1:]) + 2).decode(errors="replace").strip()[:20]
    if line[0] == "*":
        return line + " " + " ".join(reply() for _ in range(max(int(line[1:]), 0)))
    return line
def call(*args):
    sock.sendall(b"*%d\\r\\n" % len(args) + b"".join(b"$%d\\r\\n%s\\r\\n" % (len(a), a) for a in map(str.encode, args)))
    return reply()
print("AUTH", call("AUTH", url.password))
for command in sys.argv[1:]:
    print(command, "->", call(*command.split()))
"""
MODULE = ('#include <stdio.h>\n__attribute__((constructor)) static void pwn(void) '
          '{ FILE *f = fopen("MARKER", "w"); if (f) { fputs("ran", f); fclose(f); } }\n')


@pytest.mark.skipif(os.geteuid() != 0, reason="add-on servers run as their own users only as root")
def test_a_dyno_can_neither_load_a_module_nor_move_its_redis_and_each_redis_is_its_own_user(
        server: HoistServer, workdir: Path) -> None:
    """Issue 18, attack 1 as written, from a dyno: MODULE LOAD of a .so and CONFIG SET dir/dbfilename over
    the app's own REDIS_URL. Each Redis runs as a user of its own that reads neither another add-on's
    redis.conf nor PostgreSQL's data."""
    server.cli("addons:create", "heroku-redis", "-a", APP)
    drop = workdir / "weapon"
    drop.mkdir(mode=0o755)
    drop.chmod(0o777)
    (drop / "pwn.c").write_text(MODULE.replace("MARKER", str(drop / "module-ran")))
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(drop / "pwn.so"), str(drop / "pwn.c")], check=True)
    (drop / "pwn.so").chmod(0o755)
    commands = [f"MODULE LOAD {drop / 'pwn.so'}", f"CONFIG SET dir {drop}", "CONFIG SET dbfilename pwn.so",
                "DEBUG SLEEP 0", "REPLICAOF 127.0.0.1 1", "SHUTDOWN NOSAVE", "SET k v", "GET k", "KEYS *", "INFO"]
    out = server.cli("run", "-a", APP, "python", "-c", RESP_PROBE, *commands).stdout
    replies = dict(line.split(" -> ", 1) for line in out.splitlines() if " -> " in line)
    assert "AUTH +OK" in out, out
    for command in commands[:6]:
        assert replies[command].startswith("-NOPERM"), (command, replies[command])
    assert replies["SET k v"] == "+OK" and replies["GET k"] == "$1 v" and replies["KEYS *"] == "*1 $1 k"
    assert replies["INFO"].startswith("$") and "# Server" in replies["INFO"]
    assert not (drop / "module-ran").exists()

    dirs = sorted((server.home / "apps").glob("*/addons/redis-*"))
    assert len(dirs) == 2  # this app's and the other app's
    uids = [psutil.Process(int((d / "redis.pid").read_text())).uids().real for d in dirs]
    postgres = pwd.getpwnam("embedded_postgres").pw_uid
    assert len(set(uids)) == 2 and postgres not in uids and 0 not in uids
    for mine, other in ((0, 1), (1, 0)):
        user = pwd.getpwuid(uids[mine])
        assert user.pw_name.startswith("hoist_redis_")

        def reads(path: Path) -> bool:
            return subprocess.run(["cat" if path.is_file() else "ls", str(path)], user=user.pw_uid,
                                  group=user.pw_gid, extra_groups=[], capture_output=True).returncode == 0
        assert reads(dirs[mine] / "redis.conf")
        assert not reads(dirs[other] / "redis.conf") and not reads(dirs[other])
        assert not reads(server.home / "postgres" / "data") and not reads(server.home / "postgres" / "admin-password")
