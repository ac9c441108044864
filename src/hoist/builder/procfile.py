"""Procfile parsing (pure): `name: command` lines to a dict."""
from __future__ import annotations

import re

from hoist import names
from hoist.builder.errors import ProcfileError

_LINE_RE = re.compile(r"^([^:\s]+)[ \t]*:[ \t]*(.*)$")


def parse_procfile(text: str) -> dict[str, str]:
    """Parse Procfile text into {process type: command}; raise ProcfileError naming the line."""
    processes: dict[str, str] = {}
    seen_at: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE_RE.match(line)
        if not m:
            raise ProcfileError(
                f"Procfile line {lineno} is not `name: command`: {line!r}; "
                "write each process as e.g. `web: gunicorn app:app`"
            )
        kind, command = m.group(1), m.group(2).strip()
        try:
            names.process_type(kind)
        except names.InvalidName as exc:
            raise ProcfileError(f"Procfile line {lineno}: {exc}") from None
        if not command:
            raise ProcfileError(
                f"Procfile line {lineno}: process type {kind!r} has no command; "
                f"add one, e.g. `{kind}: gunicorn app:app`"
            )
        if kind in seen_at:
            raise ProcfileError(
                f"Procfile line {lineno}: process type {kind!r} is already defined on line "
                f"{seen_at[kind]}; keep one of the two lines"
            )
        seen_at[kind] = lineno
        processes[kind] = command
    return processes


def require_web(processes: dict[str, str]) -> None:
    """Fail unless the Procfile declares a `web` process (the one that gets traffic)."""
    if "web" not in processes:
        found = ", ".join(sorted(processes)) or "none"
        raise ProcfileError(
            f"Procfile has no `web` process (found: {found}); add a line such as "
            "`web: gunicorn app:app` so the app can receive HTTP traffic"
        )
