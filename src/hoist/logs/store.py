"""The log store: the last N lines of each app, kept in memory and on disk,
with live subscribers for `logs --tail`.

Lines are appended from the event loop and from API threads; subscribers
are asyncio queues, fed through `call_soon_threadsafe`. A subscriber whose
queue is full loses lines rather than slowing down the app that logs."""
from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from pathlib import Path
from typing import IO, Callable

from hoist.logs.line import LogLine, now_iso, parse

_QUEUE_MAX = 10_000
_FILE_MAX_BYTES = 4 * 1024 * 1024
_MAX_MESSAGE = 10_000


def _open_private(path: Path, truncate: bool = False) -> IO[str]:
    """An app's log file, for appending (or written anew), readable by hoist alone (0600)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else os.O_APPEND)
    return os.fdopen(os.open(path, flags, 0o600), "w" if truncate else "a", encoding="utf-8")


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[LogLine] = asyncio.Queue(_QUEUE_MAX)

    def push(self, line: LogLine) -> None:
        try:
            self.queue.put_nowait(line)
        except asyncio.QueueFull:
            pass


class LogStore:
    def __init__(self, logs_dir: Callable[[str], Path], keep: int = 1500) -> None:
        self._logs_dir = logs_dir
        self._keep = keep
        self._lines: dict[str, deque[LogLine]] = {}
        self._subs: dict[str, set[_Subscriber]] = {}
        self._files: dict[str, object] = {}
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str, LogLine], None]] = []

    def listen(self, listener: Callable[[str, LogLine], None]) -> None:
        """Call `listener(app, line)` for every line recorded from now on (the log drains); it must not block."""
        self._listeners.append(listener)

    def _buffer(self, app: str) -> deque[LogLine]:
        buf = self._lines.get(app)
        if buf is None:
            buf = deque(maxlen=self._keep)
            path = self._logs_dir(app) / "current.log"
            if path.exists():
                with path.open("r", encoding="utf-8", errors="replace") as f:
                    for text in deque(f, maxlen=self._keep):
                        parsed = parse(text.rstrip("\n"))
                        if parsed:
                            buf.append(parsed)
            self._lines[app] = buf
        return buf

    def emit(self, app: str, source: str, dyno: str, message: str, timestamp: str | None = None) -> LogLine:
        """Record one line (thread-safe) and hand it to live subscribers."""
        if len(message) > _MAX_MESSAGE:
            message = message[:_MAX_MESSAGE] + " [truncated]"
        line = LogLine(timestamp or now_iso(), source, dyno, message)
        with self._lock:
            self._buffer(app).append(line)
            try:
                self._write(app, line)
            except OSError:
                # A full disk keeps the lines in memory only; the app and hoist go on.
                broken = self._files.pop(app, None)
                if broken is not None:
                    try:
                        broken.close()  # type: ignore[attr-defined]
                    except OSError:
                        pass
            subs = list(self._subs.get(app, ()))
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.push, line)
            except RuntimeError:
                pass  # that loop is closed: the subscriber is gone
        for listener in self._listeners:
            listener(app, line)
        return line

    def _write(self, app: str, line: LogLine) -> None:
        directory = self._logs_dir(app)
        path = directory / "current.log"
        f = self._files.get(app)
        if f is None:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            f = _open_private(path)
            self._files[app] = f
        f.write(line.render() + "\n")  # type: ignore[attr-defined]
        f.flush()  # type: ignore[attr-defined]
        if f.tell() > _FILE_MAX_BYTES:  # type: ignore[attr-defined]
            # Keep the file bounded: rewrite it with just the in-memory tail.
            f.close()  # type: ignore[attr-defined]
            tmp = path.with_suffix(".tmp")
            with _open_private(tmp, truncate=True) as out:
                out.write("".join(l.render() + "\n" for l in self._lines[app]))
            tmp.replace(path)
            self._files[app] = _open_private(path)

    def recent(self, app: str, n: int) -> list[LogLine]:
        with self._lock:
            buf = self._buffer(app)
            return list(buf)[-n:] if n > 0 else []

    def subscribe(self, app: str) -> _Subscriber:
        sub = _Subscriber(asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(app, set()).add(sub)
        return sub

    def unsubscribe(self, app: str, sub: _Subscriber) -> None:
        with self._lock:
            for subs in self._subs.values():  # under whatever name the app has now
                subs.discard(sub)

    def rename(self, old: str, new: str) -> None:
        """The app is called `new` now: its lines, its open log file (the app's directory did not move)
        and its live subscribers go on under that name."""
        with self._lock:
            if old in self._lines:
                self._lines[new] = self._lines.pop(old)
            if old in self._files:
                self._files[new] = self._files.pop(old)
            subs = self._subs.pop(old, set())
            if subs:
                self._subs.setdefault(new, set()).update(subs)

    def forget(self, app: str) -> None:
        """Drop an app's lines (it was destroyed)."""
        with self._lock:
            self._lines.pop(app, None)
            f = self._files.pop(app, None)
            if f is not None:
                f.close()  # type: ignore[attr-defined]

    def close(self) -> None:
        with self._lock:
            for f in self._files.values():
                f.close()  # type: ignore[attr-defined]
            self._files.clear()
