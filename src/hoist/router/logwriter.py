"""Batched stdout writer for router log lines: one write per FLUSH_DELAY under load."""
from __future__ import annotations

import asyncio
from typing import BinaryIO

from hoist.router.logline import LogEntry, format_entry

# Lines wait this long to share one write: fewer syscalls here and fewer wakeups of the
# server reading our stdout, at a delay nobody tailing logs can notice.
FLUSH_DELAY = 0.02
MAX_PENDING = 512


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
