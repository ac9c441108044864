"""The exit status at the end of an attached run's output: the line
`\\uFFFF heroku-command-exit-status: N` (what the heroku CLI's `run -x`
parses), kept out of what the user sees. Pure: no I/O."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

MARKER = "\uffff heroku-command-exit-status: ".encode()
_FULL_RE = re.compile(re.escape(MARKER) + rb"(\d+)\r?\n?")


class MarkerFilter:
    """Feed output chunks; get back what to print now; `finish()` gives the rest and the exit code."""

    def __init__(self) -> None:
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        buf = self._held + data
        at = buf.find(MARKER[:3])  # U+FFFF is a noncharacter: real output does not contain it
        while at >= 0 and not MARKER.startswith(buf[at:at + len(MARKER)]) and not buf[at:].startswith(MARKER):
            at = buf.find(MARKER[:3], at + 1)
        if at >= 0:
            self._held = buf[at:]
            return buf[:at]
        keep = 0
        for n in range(min(len(MARKER) - 1, len(buf)), 0, -1):  # a marker may start at a chunk's end
            if MARKER.startswith(buf[-n:]):
                keep = n
                break
        self._held = buf[len(buf) - keep:] if keep else b""
        return buf[:len(buf) - keep]

    def finish(self) -> tuple[bytes, int | None]:
        m = _FULL_RE.search(self._held)
        if m is None:
            return self._held, None
        return self._held[:m.start()] + self._held[m.end():], int(m.group(1))


def parse_attach_url(url: str) -> tuple[str, int, str]:
    """`rendezvous://host:port/SECRET` -> (host, port, SECRET); ValueError if it is not one."""
    parts = urlsplit(url)
    if parts.scheme != "rendezvous" or not parts.hostname or not parts.port:
        raise ValueError(f"not a rendezvous URL: {url!r}")
    secret = (parts.path + ("?" + parts.query if parts.query else ""))[1:]
    if not secret:
        raise ValueError("the rendezvous URL has no secret")
    return parts.hostname, parts.port, secret
