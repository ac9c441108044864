"""Swarm dynos' output as `docker service logs --timestamps --no-trunc` (Docker 20.10) prints it, parsed. Pure.

Each line is `TIMESTAMP SERVICE.SLOT.TASKID@NODE    | TEXT` (the task's container's stdout on the CLI's
stdout, its stderr on the CLI's stderr): the slot is the dyno's number (`web.3`), the task id tells a
replaced task's lines from its successor's, the timestamp (RFC 3339, nanoseconds, taken by the node's
engine) orders a task's lines. A stream that ends is opened again `--since` a little before the last line
seen; `Seen` drops what was already passed on (per task: a task's lines come in order). Marker lines of
the dyno's meter (meter.py) are taken out of the text and become memory samples (`Meters`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from hoist.dynos.swarm.meter import MARK

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ([A-Za-z0-9-]+)\.(\d+)\.([a-z0-9]+)@(\S+?)\s*\| ?(.*)$")
METER = re.compile(re.escape(MARK) + r"used=(\d+) oom=(\d+)")
RESUME_MARGIN = 10.0  # seconds before the last line seen that a reopened stream starts (clock skew between nodes)


@dataclass(frozen=True)
class Entry:
    ts: int  # nanoseconds since the epoch (UTC)
    service: str
    slot: int
    task: str
    node: str
    text: str


def nanos(stamp: str) -> int:
    """2026-12-02T21:30:34.063711574Z as nanoseconds since the epoch. Pure (no time zone but UTC)."""
    day, _, clock = stamp.rstrip("Z").partition("T")
    whole, _, frac = clock.partition(".")
    y, mo, d = (int(x) for x in day.split("-"))
    h, mi, s = (int(x) for x in whole.split(":"))
    # days since 1970-01-01 (proleptic Gregorian, Howard Hinnant's days_from_civil)
    y -= mo <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return ((days * 86400 + h * 3600 + mi * 60 + s) * 10**9) + int((frac + "000000000")[:9])


def parse(raw: str) -> Entry | None:
    """One line of the CLI's output, None when it is not a task's line (an error of the CLI itself)."""
    m = LINE.match(raw.rstrip("\n"))
    if m is None:
        return None
    stamp, service, slot, task, node, text = m.groups()
    return Entry(nanos(stamp), service, int(slot), task, node, text)


def since_arg(ts: int) -> str:
    """`--since` for a stream reopened after a line stamped `ts` (ns): RESUME_MARGIN earlier, as SECONDS.NANOS."""
    start = max(0, ts - int(RESUME_MARGIN * 10**9))
    return f"{start // 10**9}.{start % 10**9:09d}"


def split_meter(text: str) -> tuple[str | None, tuple[int, int] | None]:
    """(the dyno's own text, or None when the line was only a marker; the marker's (bytes, oom kills)).
    A marker can land after a partial line the command had not ended: that text stays."""
    m = METER.search(text)
    if m is None:
        return text, None
    rest = (text[:m.start()] + text[m.end():]).rstrip()
    return (rest if rest else None), (int(m.group(1)), int(m.group(2)))


@dataclass
class Seen:
    """The last timestamp passed on per task: a reopened stream's replay of older lines is dropped."""
    last: dict[str, int] = field(default_factory=dict)

    def fresh(self, e: Entry) -> bool:
        if e.ts <= self.last.get(e.task, -1):
            return False
        self.last[e.task] = e.ts
        return True

    def resume(self) -> int | None:
        """The newest timestamp seen (where a reopened stream picks up), None before any line."""
        return max(self.last.values(), default=None)


@dataclass
class Meters:
    """Memory samples of one slot's tasks: the newest task's bytes, and OOM kills summed over its tasks
    (each task is a new container whose counter starts at 0). `base` is the count when the slot's current
    dyno started: a new dyno in the slot counts only the kills after it."""
    kills: dict[str, int] = field(default_factory=dict)  # task -> its container's oom_kill
    used: int = 0
    base: int = 0
    sampled: bool = False

    def add(self, task: str, used: int, oom: int) -> None:
        self.kills[task] = max(oom, self.kills.get(task, 0))
        self.used = used
        self.sampled = True

    def restart(self) -> None:
        self.base = sum(self.kills.values())
        self.sampled = False

    def usage(self) -> tuple[int, int] | None:
        return (self.used, sum(self.kills.values()) - self.base) if self.sampled else None
