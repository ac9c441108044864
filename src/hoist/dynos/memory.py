"""Dyno memory: what the whole dyno uses.

A contained dyno is a cgroup: its memory is the cgroup's (every process in it,
setsid and daemonized ones included), and the kernel kills in it at its hard
limit (counted as OOM kills: R15). A dyno that is only a process group is
measured over /proc: the RSS of every process in the group (one pass over
/proc measures all groups at once)."""
from __future__ import annotations

import asyncio
import os
from typing import Callable, Iterable, Sequence

from hoist.dynos.runtime import Dyno
from hoist.dynos.scheduler import DynoProcess
from hoist.logs.store import LogStore
from hoist.logs.line import PLATFORM

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 1024 * 1024
R14_EVERY = 20.0  # seconds between repeated R14 lines for one dyno


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


def measure(procs: Sequence[DynoProcess]) -> dict[int, tuple[int, int]]:
    """(bytes in use, OOM kills so far) per dyno, by its pid: from its cgroup, else its process group."""
    out: dict[int, tuple[int, int]] = {}
    plain: list[int] = []
    for proc in procs:
        usage = proc.usage() if hasattr(proc, "usage") else None
        if usage is None:
            if proc.pid > 0:  # else no process here (a swarm dyno): not measured
                plain.append(proc.pid)
        else:
            out[proc.pid] = usage
    out.update({pgid: (rss, 0) for pgid, rss in group_rss(plain).items()})
    return out


async def sample(interval: float, procs: Callable[[], list[DynoProcess]],
                 report: Callable[[dict[int, tuple[int, int]]], None]) -> None:
    """Every `interval` seconds, measure `procs()` and `report` what each uses; runs until cancelled."""
    while True:
        await asyncio.sleep(interval)
        wanted = procs()
        if wanted:
            # Read in a thread: a few hundred small reads must not stall the loop.
            report(await asyncio.to_thread(measure, wanted))


def judge(d: Dyno, rss: int, quota_mb: float, kill_factor: float, now: float, logs: LogStore,
          oom_kills: int = 0) -> bool:
    """Record the dyno's sampled memory; log R14 over the quota (every R14_EVERY s while it lasts)
    or R15 far over it, or when the kernel killed in it at its hard limit (quota x factor).
    True for R15: the dyno is to be restarted."""
    mb = d.memory_mb = rss / MB
    killed, d.oom_kills = oom_kills > d.oom_kills, oom_kills
    code = "R15" if killed else verdict(mb, quota_mb, kill_factor)
    if code == "R15":
        used = f"{quota_mb * kill_factor:g}M (its limit) reached" if killed else f"{mb:.0f}M used"
        logs.emit(d.app, PLATFORM, d.name, f"Error R15 (Memory quota vastly exceeded) -> {used} of "
                                          f"{quota_mb:g}M quota; restarting the dyno")
        return True
    if code == "R14" and now - d.r14_at >= R14_EVERY:
        d.r14_at = now
        logs.emit(d.app, PLATFORM, d.name, f"Error R14 (Memory quota exceeded) -> {mb:.0f}M used of {quota_mb:g}M quota")
    return False
