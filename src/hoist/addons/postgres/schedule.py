"""Pure backup scheduling: when the next daily backup runs, and which old ones to delete."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from hoist.addons.postgres.errors import PostgresError

T = TypeVar("T")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def parse_hhmm(at: str) -> tuple[int, int]:
    """Parse ``HH:MM`` (24-hour clock) into (hour, minute)."""
    match = HHMM_RE.match(at.strip()) if isinstance(at, str) else None
    if not match:
        raise PostgresError(f"{at!r} is not a time of day; use HH:MM on a 24-hour clock, for example 02:00")
    return int(match.group(1)), int(match.group(2))


def next_run(now: datetime, at: str) -> datetime:
    """Return the first moment strictly after `now` whose clock reads `at` (same tzinfo as `now`)."""
    hour, minute = parse_hhmm(at)
    candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= now:
        candidate += timedelta(days=1)
    return candidate


def prune(backups: Sequence[T], keep: int) -> list[T]:
    """Return the backups to delete: all but the last `keep` of `backups` (ordered oldest first)."""
    if keep < 0:
        raise PostgresError(f"keep={keep} makes no sense; keep 0 or more backups")
    return list(backups[: max(0, len(backups) - keep)])
