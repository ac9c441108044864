"""The limits of sources, on a hoist with small ones: a decompression bomb and too many files stop while
they unpack, an upload over the limit is refused as it streams, URLs expire, and with outside fetches
allowed, private, loopback and link-local addresses stay out of reach."""
from __future__ import annotations

import gzip
import io
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer
from tests.e2e.sources import follow, start_build, tarball, upload, wait_status

APP = "limits-app"


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[HoistServer]:
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user", extra_env={
        "HOIST_SOURCE_MAX_MB": "1", "HOIST_SOURCE_UNPACKED_MB": "2", "HOIST_SOURCE_MAX_FILES": "50",
        "HOIST_SOURCE_URL_TTL": "4", "HOIST_SOURCE_FETCH": "1"})
    srv.start()
    srv.cli("apps:create", APP, "--no-remote")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()
    remove_app_users(workdir)


def _failed_build(server: HoistServer, tgz: Path) -> str:
    build = start_build(server, APP, upload(server, tgz)["get_url"]).json()
    lines, _ = follow(server, APP, build)
    assert wait_status(server, f"/apps/{APP}/builds/{build['id']}")["status"] == "failed"
    return "\n".join(lines)


def test_a_decompression_bomb_and_too_many_files_stop_while_unpacking(server: HoistServer, workdir: Path) -> None:
    bomb = workdir / "bomb.tgz"
    with gzip.open(bomb, "wb", compresslevel=9) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:  # type: ignore[call-overload]
        info = tarfile.TarInfo("zeros.bin")
        info.size = 256 * 1024 * 1024
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    assert bomb.stat().st_size < 1024 * 1024  # it fits the upload limit; it is the unpacked size that is refused
    started = time.monotonic()
    assert "unpacks to more than 2 MiB (HOIST_SOURCE_UNPACKED_MB)" in _failed_build(server, bomb)
    assert time.monotonic() - started < 20
    many = tarball(workdir / "many.tgz", {f"f{i}.py": "" for i in range(80)})
    assert "more than 50 entries (HOIST_SOURCE_MAX_FILES)" in _failed_build(server, many)
    slugs = server.home / "apps" / APP / "slugs"
    assert not slugs.exists() or list(slugs.iterdir()) == []


def test_an_upload_over_the_limit_is_refused(server: HoistServer) -> None:
    urls = server.api("POST", "/sources").json()["source_blob"]
    big = httpx.put(urls["put_url"], content=b"x" * (1024 * 1024 + 1), timeout=30)
    assert big.status_code == 413 and "HOIST_SOURCE_MAX_MB" in big.json()["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(40):
            yield b"y" * 65536

    streamed = httpx.put(urls["put_url"], content=chunks(), timeout=30)
    assert streamed.status_code == 413
    sid = urls["put_url"].split("/hoist/sources/")[1].split("?")[0]
    kept = [p.name for p in (server.home / "sources").iterdir()]
    assert sid not in kept and not [k for k in kept if k.startswith(".")]  # no half upload kept
    r = start_build(server, APP, urls["get_url"])
    assert r.status_code == 422 and "Nothing was uploaded" in r.json()["message"]


def test_expired_urls_are_refused(server: HoistServer, workdir: Path) -> None:
    tgz = tarball(workdir / "late.tgz", {"app.py": ""})
    urls = upload(server, tgz)
    late = server.api("POST", "/sources").json()["source_blob"]
    time.sleep(5)
    put = httpx.put(late["put_url"], content=tgz.read_bytes(), timeout=30)
    assert put.status_code == 403 and "expired" in put.json()["message"] and "POST /sources" in put.json()["message"]
    r = start_build(server, APP, urls["get_url"])
    assert r.status_code == 422 and "expired" in r.json()["message"]
    assert httpx.get(urls["get_url"], timeout=30).status_code == 403


def test_outside_fetches_never_reach_private_addresses(server: HoistServer) -> None:
    for url in (f"http://127.0.0.1:{server.port}/", f"http://localhost:{server.port}/apps", "http://10.0.0.1/a.tgz",
                "http://169.254.169.254/latest/meta-data/", f"http://[::1]:{server.port}/", "http://0.0.0.0/",
                "https://192.168.1.1/a.tgz", "http://[::ffff:127.0.0.1]/"):
        r = start_build(server, APP, url)
        assert r.status_code == 422, (url, r.text)
        assert "private, loopback or link-local" in r.json()["message"], (url, r.text)
    r = start_build(server, APP, "file:///etc/passwd")
    assert r.status_code == 422 and "file:// URLs are never fetched" in r.json()["message"]
    r = server.api("POST", "/app-setups", json={"source_blob": {"url": "http://127.0.0.1:1/x.tgz"}})
    assert r.status_code == 422 and "loopback" in r.json()["message"]
