"""The one error type of the Postgres add-on library."""
from __future__ import annotations

from hoist.addons.errors import AddonError


class PostgresError(AddonError):
    """Something went wrong with a database; the message says what and what to do next."""
