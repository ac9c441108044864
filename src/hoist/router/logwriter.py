"""Batched stdout writer for router log lines: one write per FLUSH_DELAY under load."""
from __future__ import annotations

import asyncio
from typing import BinaryIO

from hoist.contracts.router_log import format_line
from hoist.contracts.routes import normalize_host

# Lines wait this long to share one write: fewer syscalls here and fewer wakeups of the
# server reading our stdout, at a delay nobody tailing logs can notice.
FLUSH_DELAY = 0.02
MAX_PENDING = 512

LogEntry = tuple[str, bytes, bytes, bytes, bytes, str, str, "float | None", "float | None", int,
                 int, str, "str | None", "str | None"]


def format_entry(e: LogEntry) -> str:
    """format_line for a tuple the proxy captured: (app, method, path, raw host,
    request id, fwd, dyno, connect, service, status, bytes, protocol, code, desc)."""
    return format_line(
        e[0], method=e[1].decode("latin-1"), path=e[2].decode("latin-1"),
        host=normalize_host(e[3]), request_id=e[4].decode("latin-1"), fwd=e[5], dyno=e[6],
        connect=e[7], service=e[8], status=e[9], nbytes=e[10], protocol=e[11], code=e[12],
        desc=e[13])


class LogWriter:
    """Collects lines and writes them together, FLUSH_DELAY after the first one."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: BinaryIO) -> None:
        self.loop = loop
        self.stream = stream
        self.lines: list[str | LogEntry] = []
        self.scheduled = False

    def write(self, line: str | LogEntry) -> None:
        """Queue a line, or a request's log entry (formatted at flush, off the response's path)."""
        lines = self.lines
        lines.append(line)
        if len(lines) >= MAX_PENDING:
            self.flush()
        elif not self.scheduled:
            self.scheduled = True
            self.loop.call_later(FLUSH_DELAY, self._timed_flush)

    write_entry = write

    def _timed_flush(self) -> None:
        self.scheduled = False
        self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        lines, self.lines = self.lines, []
        data = "".join(ln if isinstance(ln, str) else format_entry(ln) for ln in lines)
        try:
            self.stream.write(data.encode("utf-8", "replace"))
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # nobody is reading our stdout any more; keep routing
