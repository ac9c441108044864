"""Bound how fast one dyno's output reaches the log store.

A dyno that prints megabytes a second must not starve hoist's event loop
or flood the log: like Heroku's logplex, lines beyond the rate are dropped
and an L10 line says how many."""
from __future__ import annotations

import time
from typing import Callable

DEFAULT_RATE = 2000.0  # lines per second, per dyno
DEFAULT_BURST = 4000.0


class LineLimiter:
    """A token bucket in front of `emit`; `notice` receives the L10 message."""

    __slots__ = ("emit", "notice", "rate", "burst", "clock", "tokens", "last", "dropped")

    def __init__(self, emit: Callable[[str], object], notice: Callable[[str], object], *,
                 rate: float = DEFAULT_RATE, burst: float = DEFAULT_BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.emit, self.notice, self.rate, self.burst, self.clock = emit, notice, rate, burst, clock
        self.tokens = burst
        self.last = clock()
        self.dropped = 0

    def __call__(self, line: str) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            self.dropped += 1
            return
        self.tokens -= 1.0
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            self.notice(f"Error L10 (output buffer overflow) -> {dropped} log lines dropped: "
                        f"this dyno writes more than {self.rate:g} lines/s")
        self.emit(line)

    def lost(self, count: int) -> None:
        """Lines dropped before they reached this limiter (by the dyno's shim): reported with the next L10."""
        self.dropped += count

    def flush(self) -> None:
        """Report lines dropped at the very end (the dyno exited while over the rate)."""
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            self.notice(f"Error L10 (output buffer overflow) -> {dropped} log lines dropped")
