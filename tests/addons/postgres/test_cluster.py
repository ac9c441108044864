"""The real cluster: init, permissions, start/stop, recovery after kill -9."""
from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path

import psycopg
import pytest

from hoist.addons.postgres.bins import find_bin
from hoist.addons.postgres.cluster import Cluster
from hoist.addons.postgres.errors import PostgresError


def test_find_bin() -> None:
    for name in ("initdb", "pg_ctl", "postgres", "psql", "pg_dump", "pg_restore"):
        assert os.access(find_bin(name), os.X_OK)
    with pytest.raises(PostgresError, match="not a PostgreSQL program"):
        find_bin("rm")


def test_files_and_permissions(cluster: Cluster) -> None:
    home = cluster.data_dir.parent
    assert stat.S_IMODE((home / "admin-password").stat().st_mode) == 0o600
    assert stat.S_IMODE(cluster.data_dir.stat().st_mode) == 0o700
    if os.geteuid() == 0:
        assert cluster.data_dir.stat().st_uid != 0  # the server runs as its own user, never root
    port = json.loads((home / "cluster.json").read_text())["port"]
    assert cluster.admin_url().endswith(f"@127.0.0.1:{port}/postgres")


def test_listens_on_loopback_with_scram_only(cluster: Cluster, admin_url: str) -> None:
    with psycopg.connect(admin_url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW unix_socket_directories").fetchone() == ("",)
        methods = {r[0] for r in conn.execute("SELECT auth_method FROM pg_hba_file_rules").fetchall()}
        assert methods == {"scram-sha-256"}
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(admin_url.replace(admin_url.split(":")[2].split("@")[0], "wrong"))


def test_start_is_idempotent(cluster: Cluster) -> None:
    pid = cluster.pid()
    cluster.start()
    assert cluster.pid() == pid and cluster.is_running()


def test_restart_after_kill_9_keeps_data(cluster: Cluster, admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS survivor (v text)")
        conn.execute("INSERT INTO survivor VALUES ('still here')")
    old = cluster.pid()
    assert old is not None
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while cluster.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not cluster.is_running() and cluster.pid() is None
    cluster.start()
    assert cluster.is_running() and cluster.pid() != old
    with psycopg.connect(admin_url) as conn:
        assert conn.execute("SELECT v FROM survivor").fetchall() == [("still here",)]


def test_stop_start_and_stable_port(pg_tmp: Path) -> None:
    c = Cluster(pg_tmp / "pg" / "data")
    c.ensure_initialised()
    port = c.port
    c.ensure_initialised()  # a second call changes nothing
    assert not c.is_running() and c.pid() is None
    c.start()
    try:
        assert Cluster(pg_tmp / "pg" / "data").port == port
        c.stop()
        assert not c.is_running()
        c.stop()  # stopping a stopped server is fine
        c.start()
        with psycopg.connect(c.admin_url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        c.stop()


def test_refuses_foreign_data_dir(pg_tmp: Path) -> None:
    data = pg_tmp / "pg" / "data"
    data.mkdir(parents=True)
    (data / "something").write_text("not postgres")
    with pytest.raises(PostgresError, match="not empty"):
        Cluster(data).ensure_initialised()


def test_start_recovers_pidfile_naming_another_process(pg_tmp: Path) -> None:
    """A stale postmaster.pid whose pid now belongs to some other process (pid reuse, zombie)."""
    import subprocess

    c = Cluster(pg_tmp / "pg" / "data")
    c.start()
    c.stop()
    other = subprocess.Popen(["sleep", "30"])
    try:
        pidfile = c.data_dir / "postmaster.pid"
        pidfile.write_text(f"{other.pid}\n{c.data_dir}\n1712346200\n{c.port}\n\n127.0.0.1\n  0  0\nready\n")
        assert not c.is_running()
        c.start()
        assert c.is_running() and c.pid() != other.pid
    finally:
        other.kill()
        other.wait()
        c.stop()


def test_client_command_keeps_password_out_of_argv(admin_url: str) -> None:
    import subprocess

    from hoist.addons.postgres.bins import client_command
    from hoist.addons.postgres.urls import parse_url

    argv, env = client_command("psql", admin_url, "--no-psqlrc", "-tAc", "SELECT current_user")
    password = parse_url(admin_url).password
    assert all(password not in a for a in argv) and env["PGPASSWORD"] == password
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    assert out.stdout.strip() == "postgres"


def test_taken_port_gives_a_clear_error(pg_tmp: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        c = Cluster(pg_tmp / "pg" / "data", port=sock.getsockname()[1])
        try:
            with pytest.raises(PostgresError, match="the port is taken"):
                c.start(timeout_s=20)
        finally:
            c.stop()


def test_start_after_an_ancestor_was_made_private_again(pg_tmp: Path) -> None:
    """hoist server chmods its home 0700 on every start; the cluster under it must still start (as root)."""
    home = pg_tmp / "home"
    c = Cluster(home / "postgres" / "data")
    c.ensure_initialised()
    home.chmod(0o700)
    c.start()
    try:
        assert c.is_running()
    finally:
        c.stop()
