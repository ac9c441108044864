"""Batched stdout writer for router log lines: one write per loop iteration."""
from __future__ import annotations

import asyncio
from typing import BinaryIO

from hoist.router.logline import LogEntry, format_entry


class LogWriter:
    """Collects lines and writes them together on the next loop iteration."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: BinaryIO) -> None:
        self.loop = loop
        self.stream = stream
        self.lines: list[str | LogEntry] = []
        self.scheduled = False

    def write(self, line: str) -> None:
        self.lines.append(line)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def write_entry(self, entry: LogEntry) -> None:
        """Queue a request's log line, formatted at flush (off the response's path)."""
        self.lines.append(entry)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if not self.lines:
            return
        lines, self.lines = self.lines, []
        data = "".join(ln if isinstance(ln, str) else format_entry(ln) for ln in lines)
        try:
            self.stream.write(data.encode("utf-8", "replace"))
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # nobody is reading our stdout any more; keep routing
