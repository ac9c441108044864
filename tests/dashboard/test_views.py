"""Pure helpers of the page data."""
from __future__ import annotations

from hoist.dashboard.views import duration


def test_duration() -> None:
    assert duration(None) == "" and duration(-5) == "0s" and duration(42) == "42s"
    assert duration(303) == "5m 3s" and duration(7800) == "2h 10m" and duration(3 * 86400 + 4 * 3600) == "3d 4h"
