"""requirements.txt as lines (pure): which logical line names which project, and the same
text with some lines taken out, so a failed install can be re-checked without them."""
from __future__ import annotations

import re
from dataclasses import dataclass

_NAME_RE = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$")
_URL_RE = re.compile(r"@\s*(\S+)")


@dataclass(frozen=True)
class ReqLine:
    """One logical requirement line (continuations joined, comment dropped)."""

    first: int  # 1-based number of its first physical line
    last: int
    text: str
    name: str | None  # normalized project name; None for options (-r, --index-url) and bare paths/URLs
    url: str | None  # the URL of `name @ URL`


def normalize(name: str) -> str:
    """PEP 503 name: case and runs of -_. do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lines(text: str) -> list[ReqLine]:
    """The requirement lines of a requirements file, with the physical lines each one spans."""
    out: list[ReqLine] = []
    physical = text.splitlines()
    i = 0
    while i < len(physical):
        first, parts = i, []
        while True:
            line = physical[i]
            i += 1
            if line.endswith("\\") and i < len(physical):
                parts.append(line[:-1])
                continue
            parts.append(line)
            break
        joined = " ".join(p.strip() for p in parts)
        # pip: a comment starts at `#` preceded by whitespace (or at the start of the line).
        joined = re.split(r"(?:^|\s)#", joined, maxsplit=1)[0].strip()
        if not joined:
            continue
        out.append(_line(first + 1, i, joined))
    return out


def _line(first: int, last: int, text: str) -> ReqLine:
    if text.startswith("-") or "://" in text.split("@")[0] or text.startswith((".", "/")):
        return ReqLine(first, last, text, None, None)
    m = _NAME_RE.match(text)
    if not m:
        return ReqLine(first, last, text, None, None)
    rest = m.group(3)
    url = _URL_RE.match(rest)
    return ReqLine(first, last, text, normalize(m.group(1)), url.group(1) if url else None)


def without(text: str, lines: list[ReqLine]) -> str:
    """The file's text with these logical lines commented out (line numbers stay the same)."""
    drop = {n for ln in lines for n in range(ln.first, ln.last + 1)}
    return "\n".join(("# " + p if n in drop else p) for n, p in enumerate(text.splitlines(), start=1)) + "\n"


def find(lines: list[ReqLine], requirement: str) -> ReqLine | None:
    """The line that asks for `requirement` (as uv names it: `flask==1.0`, `flask[async]>=2`, or a URL)."""
    for ln in lines:
        if ln.url is not None and ln.url == requirement:
            return ln
    m = _NAME_RE.match(requirement)
    if not m:
        return None
    name = normalize(m.group(1))
    return next((ln for ln in lines if ln.name == name), None)
