"""Telling the router that routes.json changed (the table itself: hoist.contracts.routes)."""
from __future__ import annotations

import os
import signal


def notify(pid: int | None) -> None:
    """SIGHUP the router at pid, if it runs: it reloads its table."""
    if pid:
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            pass
