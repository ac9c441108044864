"""The one error type of the scheduler add-on."""
from __future__ import annotations

from hoist.addons.errors import AddonError


class SchedulerError(AddonError):
    """A job that cannot be: the message says what is wrong and what to type instead."""
