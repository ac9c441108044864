"""Log lines: Heroku's `TIMESTAMP source[dyno]: message` format, parsed and rendered.

Sources are Heroku's: `app` (what the app prints, and `app[api]` for releases and builds) and `heroku`
(the platform: `heroku[router]`, `heroku[web.1]: State changed ...`), so tools that parse Heroku's
lines read hoist's. Lines kept by an older hoist, which named the platform `hoist`, read as `heroku`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

PLATFORM = "heroku"  # the source of the platform's own lines, as Heroku names it
_OLD_PLATFORM = "hoist"  # what hoist named it before

_LINE_RE = re.compile(r"^(\S+) ([a-zA-Z0-9_-]+)\[([^\]]+)\]: ?(.*)$")


@dataclass(frozen=True)
class LogLine:
    timestamp: str
    source: str  # app | heroku
    dyno: str  # web.1, router, api, build, ...
    message: str

    def render(self) -> str:
        return f"{self.timestamp} {self.source}[{self.dyno}]: {self.message}"


def now_iso() -> str:
    """`2026-11-21T19:00:00.123456+00:00`, Heroku's log timestamp."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def parse(text: str) -> LogLine | None:
    m = _LINE_RE.match(text)
    if not m:
        return None
    source = PLATFORM if m.group(2) == _OLD_PLATFORM else m.group(2)
    return LogLine(m.group(1), source, m.group(3), m.group(4))


def matches(line: LogLine, *, source: str | None = None, dyno: str | None = None) -> bool:
    """Filter as `heroku logs -s/-d` does; `-s router` selects router lines, `-s heroku` (or `-s hoist`) the
    platform's own.

    A dyno filter of `web` matches every web dyno; `web.1` only that one."""
    if source:
        if source == "router":
            if line.dyno != "router":
                return False
        elif line.source != (PLATFORM if source == _OLD_PLATFORM else source):
            return False
    if dyno:
        if "." in dyno:
            if line.dyno != dyno:
                return False
        elif line.dyno.split(".", 1)[0] != dyno:
            return False
    return True
