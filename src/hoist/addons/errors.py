"""The error every add-on provider raises (each provider has its own subclass: PostgresError, RedisError)."""
from __future__ import annotations


class AddonError(Exception):
    """An add-on could not be provisioned, served or removed; the message says what and what to do next."""
