"""The pushed tree, received: the hook's `git archive` stream unpacked into the slug's directory."""
from __future__ import annotations

import asyncio
import tarfile
import tempfile
from pathlib import Path
from typing import IO, AsyncIterator

MAX_UPLOAD = 1024 * 1024 * 1024  # an unpacked tree over 1 GiB is refused


async def unpack(body: AsyncIterator[bytes], dest: Path) -> None:
    """Stream the tar upload to a temp file, then extract it safely (no links out, no absolute paths)."""
    dest.mkdir(parents=True)
    size = 0
    with tempfile.TemporaryFile() as f:
        async for chunk in body:
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise ValueError("the pushed tree is over 1 GiB; keep large data out of the repository")
            f.write(chunk)
        f.seek(0)
        await asyncio.to_thread(_extract, f, dest)


def _extract(fileobj: IO[bytes], dest: Path) -> None:
    with tarfile.open(fileobj=fileobj, mode="r:") as tar:
        tar.extractall(dest, filter="data")
