"""A source tarball (`POST /apps/{app}/builds`, `POST /app-setups`) unpacked into a slug directory, safely.

Nothing lands outside the directory: absolute paths, `..`, links that lead out, device files and
fifos are refused with the entry's name. The limits hold while the archive streams, not after: the
decompressed bytes are counted as tarfile reads them (a header asking for more than a header may hold
is refused before it is read), each entry's size is checked before its data is written, and so is the
number of entries. A tarball whose entries share one top-level directory is unpacked from inside it,
as Heroku does. Everything is unpacked beside the destination first and renamed into place, so a
refused tarball leaves nothing behind."""
from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import posixpath
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

MAX_HEADER_READ = 1024 * 1024  # a pax or long-name header larger than this is not a source tree's
ENTRY_OVERHEAD = 1024  # a tar header and its padding, per entry


class SourceError(ValueError):
    """A source that cannot be built: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int  # what the files may add up to once unpacked
    max_files: int  # entries (files, directories, links)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_checksum(path: Path, checksum: str) -> None:
    """`SHA256:<hex>` must match the blob's bytes (the compressed tarball, as uploaded)."""
    algo, _, want = checksum.partition(":")
    if algo.upper() != "SHA256":
        raise SourceError(f"checksum {checksum!r} is not SHA256:<hex>; hoist verifies SHA-256 checksums only")
    got = sha256_of(path)
    if got != want.lower():
        raise SourceError(f"the source's SHA-256 is {got}, not {want.lower()} as its checksum says: the "
                          "tarball changed or was cut short. Upload it again, or send the right checksum.")


class _Counted(io.RawIOBase):
    """The decompressed stream as tarfile reads it: bytes counted against a cap, seeks forward only."""

    def __init__(self, inner: io.BufferedIOBase | IO[bytes], cap: int, limit_mb: int) -> None:
        self.inner = inner
        self.cap = cap
        self.limit_mb = limit_mb
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def _take(self, n: int) -> bytes:
        if self.pos + n > self.cap and n > 0:
            data = self.inner.read(max(0, self.cap - self.pos) + 1)
            if self.pos + len(data) > self.cap:
                raise SourceError(f"the tarball unpacks to more than {self.limit_mb} MiB (HOIST_SOURCE_UNPACKED_MB); "
                                  "keep large data out of the source")
            self.pos += len(data)
            return data
        data = self.inner.read(n)
        self.pos += len(data)
        return data

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        if n is None or n < 0 or n > MAX_HEADER_READ:
            raise SourceError(f"the tarball has an entry header of {n} bytes (over {MAX_HEADER_READ} bytes); "
                              "it is not a source tree hoist can unpack")
        return self._take(n)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self.pos + offset if whence == io.SEEK_CUR else -1
        if target < self.pos:
            raise SourceError("the tarball needs to be read backwards (a hard link to an entry that could not be "
                              "linked); hoist reads it once, front to back")
        while self.pos < target:
            if not self._take(min(target - self.pos, 1 << 20)):
                break
        return self.pos


def _decompressed(raw: IO[bytes]) -> io.BufferedIOBase | IO[bytes]:
    head = raw.read(6)
    raw.seek(0)
    if head[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head[:3] == b"BZh":
        return bz2.BZ2File(raw)
    if head == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw)
    return raw


def _clean_name(name: str) -> str:
    """The entry's path inside the tree ('' for the root itself); refuses absolute paths and `..`."""
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise SourceError(f"the tarball entry {name!r} has an absolute path; a source tarball holds relative paths only")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise SourceError(f"the tarball entry {name!r} has a '..' in its path, which would write outside the app")
    return "/".join(parts)


def _check_member(m: tarfile.TarInfo, name: str, seen_files: set[str]) -> None:
    if m.ischr() or m.isblk() or m.isfifo():
        kind = "a fifo" if m.isfifo() else "a device file"
        raise SourceError(f"the tarball entry {m.name!r} is {kind}; a source tarball holds files, directories and links")
    if m.issym():
        target = m.linkname
        if target.startswith("/"):
            raise SourceError(f"the tarball's symlink {m.name!r} points to the absolute path {target!r}, outside the app")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if resolved == ".." or resolved.startswith("../"):
            raise SourceError(f"the tarball's symlink {m.name!r} points to {target!r}, outside the app")
    elif m.islnk():
        try:
            inside = _clean_name(m.linkname) in seen_files
        except SourceError:
            inside = False
        if not inside:
            raise SourceError(f"the tarball's hard link {m.name!r} points to {m.linkname!r}, which is not a file "
                              "earlier in the tarball")
    elif not (m.isreg() or m.isdir()):
        raise SourceError(f"the tarball entry {m.name!r} is of a kind hoist does not unpack (type {m.type!r})")


def unpack_tarball(path: Path, dest: Path, limits: Limits) -> int:
    """Unpack the tarball at `path` (gzip, bzip2, xz or plain) into `dest`, which must not exist yet;
    return the number of entries. Raises SourceError, leaving nothing behind, if it is not safe."""
    staging = dest.with_name(dest.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    limit_mb = limits.max_bytes // (1024 * 1024)
    try:
        with path.open("rb") as raw:
            stream = _Counted(_decompressed(raw), limits.max_bytes + ENTRY_OVERHEAD * limits.max_files + (1 << 20),
                              limit_mb)
            count = _extract(stream, staging, limits, limit_mb)
        entries = list(staging.iterdir())
        if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
            os.rename(entries[0], dest)  # one top-level directory: the app is what is inside it
            staging.rmdir()
        else:
            os.rename(staging, dest)
        return count
    except SourceError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise SourceError(f"the source is not a tarball hoist can read ({exc}); send a .tar.gz (or .tgz, "
                          ".tar.bz2, .tar.xz, .tar) of the app's files") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(stream: _Counted, staging: Path, limits: Limits, limit_mb: int) -> int:
    total = count = 0
    seen_files: set[str] = set()
    with tarfile.open(fileobj=stream, mode="r:") as tar:
        for m in tar:
            count += 1
            if count > limits.max_files:
                raise SourceError(f"the tarball has more than {limits.max_files} entries "
                                  "(HOIST_SOURCE_MAX_FILES); keep generated files out of the source")
            name = _clean_name(m.name)
            _check_member(m, name, seen_files)
            if not name:
                continue  # "./": the root itself
            total += m.size if m.isreg() else 0
            if total > limits.max_bytes:
                raise SourceError(f"the tarball unpacks to more than {limit_mb} MiB (HOIST_SOURCE_UNPACKED_MB); "
                                  "keep large data out of the source")
            m.name = name
            if m.islnk():
                m.linkname = _clean_name(m.linkname)
            try:
                tar.extract(m, staging, numeric_owner=True, filter="data")
            except tarfile.FilterError as exc:
                raise SourceError(f"the tarball entry {name!r} is refused: {exc}") from None
            if m.isreg():
                seen_files.add(name)
    return count
