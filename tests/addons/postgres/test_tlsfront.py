"""The TLS front in front of a real cluster: psycopg with sslmode=require/disable/verify-full/direct,
Postgres's own auth errors, cancel requests, bad first messages, and the process hoist supervises."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from hoist.addons.postgres.cluster import Cluster
from hoist.procs import free_port
from hoist.addons.postgres.front import TlsFront
from hoist.addons.postgres.provision import Credentials
from hoist.addons.postgres.urls import parse_url
from hoist.launch import module_argv
from hoist.tls.ca import LocalCA


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hoist-pgfront-"))
    LocalCA(path / "tls").ensure()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def front_port(home: Path, cluster: Cluster) -> Iterator[int]:
    """The front as hoist starts it (`python -m hoist.addons.postgres.tlsfront ...`)."""
    pair = LocalCA(home / "tls").issue(["localhost", "127.0.0.1"], home / "leaf")
    port = free_port()
    proc = subprocess.Popen(module_argv("hoist.addons.postgres.tlsfront", "--listen", f"127.0.0.1:{port}",
                                        "--upstream", f"127.0.0.1:{cluster.port}", "--cert", str(pair.cert),
                                        "--key", str(pair.key)))
    deadline = time.monotonic() + 10
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert proc.poll() is None and time.monotonic() < deadline, "the front did not start"
        time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def url(front_port: int, cluster: Cluster, admin_url: str) -> Iterator[str]:
    from hoist.addons.postgres import provision
    creds: Credentials = provision.create(admin_url, "front-app")
    yield creds.url.replace(f":{cluster.port}/", f":{front_port}/")
    provision.destroy(admin_url, creds.database, creds.user)


def test_sslmode_require_ends_tls_at_the_front(url: str) -> None:
    with psycopg.connect(url, sslmode="require", connect_timeout=5) as conn:
        assert conn.pgconn.ssl_in_use and conn.info.parameter_status("server_version")
        # The server sees a plaintext connection: TLS ends at the front.
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (False,)
        assert conn.execute("SELECT current_user").fetchone() == (parse_url(url).user,)


def test_verify_full_with_the_local_ca_and_direct_ssl(url: str, home: Path) -> None:
    ca = str(home / "tls" / "ca.pem")
    for host in ("127.0.0.1", "localhost"):
        with psycopg.connect(url.replace("@127.0.0.1:", f"@{host}:"), sslmode="verify-full", sslrootcert=ca,
                             connect_timeout=5) as conn:
            assert conn.pgconn.ssl_in_use
    # PG 17+ clients may skip the SSLRequest and open with a TLS ClientHello (ALPN "postgresql").
    with psycopg.connect(url, sslmode="require", sslnegotiation="direct", connect_timeout=5) as conn:
        assert conn.pgconn.ssl_in_use and conn.execute("SELECT 2").fetchone() == (2,)


def test_plain_clients_and_gssenc_probes_still_work(url: str) -> None:
    with psycopg.connect(url, sslmode="disable", connect_timeout=5) as conn:
        assert not conn.pgconn.ssl_in_use and conn.execute("SELECT 1").fetchone() == (1,)
    with psycopg.connect(url, sslmode="prefer", gssencmode="prefer", connect_timeout=5) as conn:
        assert conn.pgconn.ssl_in_use  # GSSENCRequest answered 'N', then SSL


def test_wrong_password_gets_postgres_own_error(url: str) -> None:
    bad = url.replace(parse_url(url).password, "wrong-password")
    for mode in ("require", "disable"):
        with pytest.raises(psycopg.OperationalError, match="password authentication failed for user"):
            psycopg.connect(bad, sslmode=mode, connect_timeout=5)


@pytest.mark.parametrize("mode", ["require", "disable"])
def test_cancel_request_reaches_the_server(url: str, mode: str) -> None:
    with psycopg.connect(url, sslmode=mode, connect_timeout=5) as conn:
        timer = threading.Timer(0.3, conn.cancel)
        timer.start()
        start = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(10)")
        assert time.monotonic() - start < 5


def test_bad_first_messages(front_port: int) -> None:
    with socket.create_connection(("127.0.0.1", front_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        reply = sock.recv(1000)
        assert reply[:1] == b"E" and b"08P01" in reply and b"invalid startup packet" in reply
    # Plaintext sent right behind an SSLRequest is not read as the startup (CVE-2021-23214):
    # it is the start of the TLS handshake, which fails.
    startup = struct.pack("!I", 3 << 16) + b"user\0x\0\0"
    with socket.create_connection(("127.0.0.1", front_port), timeout=5) as sock:
        sock.sendall(struct.pack("!II", 8, 80877103) + struct.pack("!I", len(startup) + 4) + startup)
        assert sock.recv(1) == b"S"
        rest = sock.recv(1000)
        assert rest == b"" or rest[:1] == b"\x15", rest  # closed, or a TLS alert; never an auth request


def test_front_process_is_started_restarted_and_stopped(cluster: Cluster, home: Path, url: str) -> None:
    asyncio.run(_lifecycle(cluster, home, url))


async def _lifecycle(cluster: Cluster, home: Path, url: str) -> None:
    fhome = home / "postgres"
    fhome.mkdir()
    port = free_port()
    (fhome / "front.json").write_text(json.dumps({"port": port}))  # kept: the shared cluster stays put
    said: list[str] = []
    front = TlsFront(fhome, home / "tls", say=said.append)
    await asyncio.to_thread(front.prepare, cluster)
    assert front.port == port and cluster.is_running() and not said
    assert parse_url(front.public_url(cluster.admin_url())).port == port
    app_url = url.replace(f":{parse_url(url).port}/", f":{port}/")
    connect: Callable[[], bool] = lambda: psycopg.connect(app_url, sslmode="require").pgconn.ssl_in_use
    await front.start(cluster.port)
    assert await asyncio.to_thread(connect)
    assert front.pid is not None
    os.kill(front.pid, signal.SIGKILL)
    await front.wait()
    assert not front.running
    await front.start(cluster.port)  # the port is free again at once
    assert await asyncio.to_thread(connect)
    await front.stop()
    with pytest.raises(psycopg.OperationalError):
        await asyncio.to_thread(connect)
