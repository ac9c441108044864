"""Per-token API rate limit: a token bucket refilled continuously, as Heroku's
(4500 requests per hour by default), reported in RateLimit-Remaining."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class RateLimiter:
    per_hour: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, at)

    def take(self, key: str) -> tuple[bool, int]:
        """Spend one request for `key`; return (allowed, remaining)."""
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.per_hour), now))
        tokens = min(float(self.per_hour), tokens + (now - at) * self.per_hour / 3600.0)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        return allowed, int(tokens)
