"""Helpers for builds from source tarballs: make a tarball, upload it to a put_url, start a build and
follow its output_stream_url the way a plain HTTP client (or the heroku-builds plugin) does."""
from __future__ import annotations

import hashlib
import io
import tarfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import HoistServer

Entry = tuple[str, bytes] | tarfile.TarInfo


def tarball(path: Path, files: dict[str, str], top: str | None = None, extra: list[Entry] = ()) -> Path:  # type: ignore[assignment]
    """A .tgz of `files` (under the directory `top`, as GitHub's tarballs are), then `extra` entries."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size, info.mode = len(data), 0o755 if name.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(data))
        for e in extra:
            if isinstance(e, tarfile.TarInfo):
                tar.addfile(e)
            else:
                info = tarfile.TarInfo(e[0])
                info.size, info.mode = len(e[1]), 0o644
                tar.addfile(info, io.BytesIO(e[1]))
    return path


def entry(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def checksum(path: Path) -> str:
    return "SHA256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def upload(server: HoistServer, path: Path, token: str | None = None) -> dict[str, str]:
    """POST /sources, then PUT the tarball to put_url with no token; return the source_blob URLs."""
    created = server.api("POST", "/sources", token=token)
    assert created.status_code == 201, created.text
    urls: dict[str, str] = created.json()["source_blob"]
    put = httpx.put(urls["put_url"], content=path.read_bytes(), timeout=60)
    assert put.status_code == 200, put.text
    return urls


def start_build(server: HoistServer, app: str, url: str, **blob: Any) -> httpx.Response:
    return server.api("POST", f"/apps/{app}/builds", json={"source_blob": {"url": url, **blob}})


def follow(server: HoistServer, app: str, build: dict[str, Any]) -> tuple[list[str], set[str]]:
    """Read output_stream_url with a bare client (no token) to its end; return the lines and the build
    statuses seen while the stream was open."""
    lines: list[str] = []
    seen: set[str] = set()
    with httpx.stream("GET", build["output_stream_url"], timeout=600) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            lines.append(line)
            if len(seen) < 3 and ("Unpacking" in line or "Python app detected" in line):
                seen.add(server.api("GET", f"/apps/{app}/builds/{build['id']}").json()["status"])
    return lines, seen


def wait_status(server: HoistServer, path: str, timeout: float = 300) -> dict[str, Any]:
    """Poll a build or app setup until it is no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = server.api("GET", path).json()
        if body["status"] != "pending" or time.monotonic() > deadline:
            return body
        time.sleep(0.5)
