"""Dyno memory: the resident set of each process group, summed over /proc.

A dyno is a process group (its own session), so its memory is the RSS of
every process in that group, daemons it forked included. One pass over
/proc measures all groups at once."""
from __future__ import annotations

import os
from typing import Iterable

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 1024 * 1024


def parse_stat(text: str) -> tuple[int, int] | None:
    """(process group, rss in pages) from the text of /proc/PID/stat; None if malformed. Pure."""
    _, sep, rest = text.rpartition(")")
    fields = rest.split()
    if not sep or len(fields) < 22:
        return None
    try:
        # After the command: state ppid pgrp ...; rss is field 24 overall (index 21 here).
        return int(fields[2]), int(fields[21])
    except ValueError:
        return None


def group_rss(groups: Iterable[int]) -> dict[int, int]:
    """Bytes resident per process group, for the groups asked about (one scan of /proc)."""
    wanted = set(groups)
    totals = dict.fromkeys(wanted, 0)
    if not wanted:
        return totals
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                parsed = parse_stat(f.read().decode("latin-1"))
        except OSError:
            continue  # exited while we looked
        if parsed and parsed[0] in wanted:
            totals[parsed[0]] += parsed[1] * PAGE
    return totals


def verdict(mb: float, quota_mb: float, kill_factor: float) -> str | None:
    """'R15' when far over the quota (restart), 'R14' when over it (warn), else None. Pure."""
    if mb > quota_mb * kill_factor:
        return "R15"
    if mb > quota_mb:
        return "R14"
    return None
