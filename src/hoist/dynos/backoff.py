"""Crash restart delays, supervisord-style: the first restart is immediate,
repeated crashes wait longer and longer, up to a cap. A dyno that stayed up
for `STABLE_AFTER` seconds before crashing starts the count again."""
from __future__ import annotations

DELAYS = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 60.0)
STABLE_AFTER = 60.0


def restart_delay(consecutive_crashes: int) -> float:
    """Seconds to wait before restart number `consecutive_crashes` (1-based)."""
    if consecutive_crashes <= 0:
        return 0.0
    return DELAYS[min(consecutive_crashes - 1, len(DELAYS) - 1)]
