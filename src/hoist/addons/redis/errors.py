"""The one error type of the Redis add-on."""
from __future__ import annotations

from hoist.addons.errors import AddonError


class RedisError(AddonError):
    """A Redis add-on failure; the message says what went wrong and what to do next."""
