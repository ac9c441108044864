"""Keep what a release phase prints, for `releases:output` (Heroku's release `output_stream_url`)."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from hoist.contracts.release import RunRelease


@contextmanager
def release_output(path: Path, run: RunRelease, out: Callable[[str], None]) -> Iterator[Callable[[str], None]]:
    """Yield `out` teed into `path` when the release has a release phase; `out` alone otherwise.

    A failed write (disk full) stops the recording, never the release."""
    if "release" not in run.process_types:
        yield out
        return
    f: IO[str] | None
    try:
        f = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8")
    except OSError:
        f = None

    def tee(line: str) -> None:
        nonlocal f
        out(line)
        if f is None:
            return
        try:
            f.write(line + "\n")
            f.flush()
        except OSError:
            f.close()
            f = None
    try:
        yield tee
    finally:
        if f is not None:
            try:
                f.close()
            except OSError:
                pass
