"""Sources: `POST /sources` (a put_url to upload a tarball to, a get_url to build from) and the
source_blob URLs builds and app setups are given.

The URLs are hoist's own, signed with the installation's key and valid for HOIST_SOURCE_URL_TTL
seconds: whoever holds one may upload (put) or read (get) that one blob, as with Heroku's S3 URLs.
A blob is kept under HOIST_HOME/sources until its URLs have expired. A source_blob URL is either
such a get_url, or, when the admin allows it, an outside http(s) URL (fetch.py)."""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from hoist.paths import Paths
from hoist.platform.capability import UrlSigner
from hoist.platform.fetch import check_url, checked_address, fetch
from hoist.platform.tarball import Limits, SourceError, check_checksum, unpack_tarball
from hoist.settings import Settings

Emit = Callable[[str], None]
Receive = Callable[[Path, Emit], Awaitable[None]]  # unpack a source into a (new) slug directory

ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PATH_RE = re.compile(r"^/hoist/sources/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
CHECKSUM_RE = re.compile(r"^SHA256:[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class SourceUrls:
    id: str
    put_path: str  # path and query; the API puts its own scheme and host in front
    get_path: str
    expires: int  # seconds since the epoch


@dataclass(frozen=True)
class Blob:
    """A source_blob that passed its checks: a tarball hoist holds, or an outside URL to fetch."""
    url: str
    path: Path | None


class Sources:
    def __init__(self, settings: Settings, paths: Paths, signer: UrlSigner,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.root = paths.sources
        self.signer = signer
        self.clock = clock
        self.max_bytes = settings.source_max_mb * 1024 * 1024
        self.limits = Limits(settings.source_unpacked_mb * 1024 * 1024, settings.source_max_files)

    # ----- signed URLs -----

    def create(self) -> SourceUrls:
        """A new blob's put and get URLs."""
        self.sweep()
        sid = str(uuid.uuid4())
        expires = int(self.clock() + self.settings.source_url_ttl)
        return SourceUrls(sid, self._path("put", sid, expires), self._path("get", sid, expires), expires)

    def _path(self, kind: str, sid: str, expires: int) -> str:
        sig = self.signer.sign("source", kind, sid, str(expires))
        return f"/hoist/sources/{sid}?kind={kind}&expires={expires}&signature={sig}"

    def refusal(self, kind: str, sid: str, expires: str, signature: str) -> str | None:
        """Why this URL may not `kind` (put or get) the blob; None when it may."""
        if not expires.isdigit() or not self.signer.verify(signature, "source", kind, sid, expires):
            return f"This is not a valid {kind}_url: use the URL POST /sources answered, unchanged."
        if int(expires) < self.clock():
            return (f"This {kind}_url expired {int(self.clock()) - int(expires)} s ago (HOIST_SOURCE_URL_TTL is "
                    f"{self.settings.source_url_ttl:g} s): POST /sources for new URLs and upload the tarball again.")
        return None

    def stored(self, sid: str) -> Path:
        return self.root / sid

    # ----- uploads -----

    async def receive(self, sid: str, body: AsyncIterator[bytes]) -> tuple[int, str]:
        """Store an upload (written beside its place, renamed when complete); return its size and
        `SHA256:<hex>`. SourceError when it is too big."""
        self.root.mkdir(mode=0o700, exist_ok=True)
        part = self.root / f".part-{sid}-{uuid.uuid4().hex[:8]}"
        size = 0
        digest = hashlib.sha256()
        try:
            with part.open("wb") as f:
                async for chunk in body:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise SourceError(self.too_big())
                    digest.update(chunk)
                    f.write(chunk)
            os.replace(part, self.stored(sid))
        finally:
            part.unlink(missing_ok=True)
        return size, f"SHA256:{digest.hexdigest()}"

    def too_big(self) -> str:
        return (f"The source is over {self.settings.source_max_mb} MiB, this hoist's limit (HOIST_SOURCE_MAX_MB); "
                "keep large data out of it.")

    def sweep(self) -> None:
        """Blobs whose URLs have all expired are of no use: remove them (and half uploads)."""
        if not self.root.is_dir():
            return
        cutoff = self.clock() - self.settings.source_url_ttl - 60
        for entry in self.root.iterdir():
            try:
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
            except OSError:
                pass

    # ----- source_blob URLs -----

    async def resolve(self, url: object) -> Blob:
        """The checked source of a build; SourceError says why a URL cannot be one."""
        if not isinstance(url, str) or not url:
            raise SourceError("source_blob.url is required: the get_url of POST /sources after you PUT the "
                              "tarball to its put_url")
        parts = urlsplit(url)
        m = _PATH_RE.match(parts.path)
        if m and parts.query:
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            why = self.refusal("get", m.group(1), q.get("expires", ""), q.get("signature", ""))
            if q.get("kind") != "get" or why:
                raise SourceError(why or "source_blob.url must be the get_url of POST /sources, not its put_url")
            path = self.stored(m.group(1))
            if not path.is_file():
                raise SourceError("Nothing was uploaded to this source yet: PUT the tarball to its put_url first.")
            return Blob(url, path)
        _, host, port = check_url(url)
        if not self.settings.source_fetch:
            raise SourceError(f"This hoist fetches no sources from outside ({host}): HOIST_SOURCE_FETCH is off. "
                              "Upload the tarball instead: POST /sources, PUT it to put_url, build from get_url "
                              "(`hoist builds:create` does all three)")
        await asyncio.to_thread(checked_address, host, port)
        return Blob(url, None)

    async def verify(self, blob: Blob, checksum: str | None) -> None:
        """Check a held blob's checksum now, so a wrong one is refused before a build starts."""
        if checksum and blob.path is not None:
            await asyncio.to_thread(check_checksum, blob.path, checksum)

    def receiver(self, blob: Blob, checksum: str | None) -> Receive:
        """The receive step of a build from `blob`: fetch it if it is outside, verify, unpack."""
        async def receive(dest: Path, emit: Emit) -> None:
            path, fetched = blob.path, None
            try:
                if path is None:
                    emit(f"-----> Fetching source from {urlsplit(blob.url).hostname}")
                    self.root.mkdir(mode=0o700, exist_ok=True)
                    path = fetched = self.root / f".fetch-{uuid.uuid4().hex}"
                    size = await asyncio.to_thread(fetch, blob.url, fetched, self.max_bytes)
                    emit(f"       {size / 1e6:.1f} MB")
                if checksum:
                    emit("-----> Verifying checksum")
                    await asyncio.to_thread(check_checksum, path, checksum)
                emit("-----> Unpacking source tarball")
                count = await asyncio.to_thread(unpack_tarball, path, dest, self.limits)
                emit(f"       {count} entries")
            finally:
                if fetched is not None:
                    fetched.unlink(missing_ok=True)
        return receive
