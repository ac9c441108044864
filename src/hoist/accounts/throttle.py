"""Slowing down password guessing: after a few failures in a row for one email
(or from one address) each further attempt must wait exponentially longer,
up to a cap. Nobody is locked out forever; a success resets the count."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

FREE_FAILURES = 5  # typos are free
BASE_DELAY = 0.05  # seconds, doubled per further failure
MAX_DELAY = 30.0


@dataclass
class _Record:
    failures: int = 0
    not_before: float = 0.0


@dataclass
class LoginThrottle:
    clock: Callable[[], float] = time.monotonic
    _records: dict[str, _Record] = field(default_factory=dict)

    def wait_for(self, *keys: str) -> float:
        """Seconds until another attempt for these keys is allowed (0 if now)."""
        now = self.clock()
        return max((max(0.0, r.not_before - now) for k in keys if (r := self._records.get(k))), default=0.0)

    def failed(self, *keys: str) -> int:
        """Count a failure for each key; return the highest count."""
        now = self.clock()
        worst = 0
        for key in keys:
            r = self._records.setdefault(key, _Record())
            r.failures += 1
            extra = r.failures - FREE_FAILURES
            if extra > 0:
                r.not_before = now + min(MAX_DELAY, BASE_DELAY * 2 ** min(extra - 1, 20))
            worst = max(worst, r.failures)
        if len(self._records) > 100_000:  # bounded memory under a spray of random emails
            self._records = {k: r for k, r in self._records.items() if r.not_before > now}
        return worst

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._records.pop(key, None)
