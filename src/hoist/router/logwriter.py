"""Batched stdout writer for router log lines: one write per loop iteration."""
from __future__ import annotations

import asyncio
from typing import BinaryIO


class LogWriter:
    """Collects lines and writes them together on the next loop iteration."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: BinaryIO) -> None:
        self.loop = loop
        self.stream = stream
        self.lines: list[str] = []
        self.scheduled = False

    def write(self, line: str) -> None:
        self.lines.append(line)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if not self.lines:
            return
        data, self.lines = "".join(self.lines), []
        try:
            self.stream.write(data.encode("utf-8", "replace"))
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # nobody is reading our stdout any more; keep routing
