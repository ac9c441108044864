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


NO_PROCFILE = (
    "Your application is missing a Procfile. This file tells hoist how to run your application.\n"
    "Until it declares a `web` process the app has no web dyno, and requests get H14 (no web dynos running); "
    "add a Procfile with a line such as `web: gunicorn app:app`, commit it and push again"
)


def web_warning(processes: dict[str, str]) -> str | None:
    """Heroku deploys a Procfile without `web` (workers, one-off and scheduled commands only); say what that means."""
    if "web" in processes:
        return None
    found = ", ".join(sorted(processes)) or "none"
    return (
        f"The Procfile declares no `web` process (found: {found}), so the app has no web dyno and requests "
        "get H14 (no web dynos running); add a line such as `web: gunicorn app:app` if it should serve HTTP"
    )
