"""A full disk under HOIST_HOME: how to recognise it (SQLite's SQLITE_FULL, ENOSPC, EDQUOT), how much room is
left, and the one message every face gives for it: which directory, how much is free, and what to do.

Reads keep working on a full disk (they write nothing that matters); a write that cannot be made is refused
before it starts when less than MIN_FREE is left, and rolled back whole when the disk fills under it."""
from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

MIN_FREE = 16 * 1024 * 1024  # below this, writes are refused up front (SQLite needs room for its WAL)
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_full(exc: BaseException) -> bool:
    """True if `exc` says the disk (or the user's quota) is full."""
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS


def space(path: Path) -> tuple[int, int]:
    """(free bytes, total bytes) of the filesystem holding `path`; (0, 0) if it cannot be read."""
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return 0, 0
    return usage.free, usage.total


def low(path: Path) -> bool:
    """True when too little room is left under `path` to start a write (MIN_FREE)."""
    return space(path)[0] < MIN_FREE


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def full_message(home: Path) -> str:
    """What a refused write says: where, how much is free, and what to do."""
    free, total = space(home)
    return (f"HOIST_HOME ({home}) is out of disk space: {_mb(free)} free of {_mb(total)} (hoist needs at least "
            f"{_mb(MIN_FREE)} to change anything). Nothing was changed. Free space on that disk (delete files "
            f"you do not need there, destroy apps or add-ons you no longer use, or grow the disk), then try again; "
            f"reading (apps, config, logs, releases) keeps working meanwhile.")
