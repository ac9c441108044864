"""The one error type of the Postgres add-on library."""
from __future__ import annotations


class PostgresError(Exception):
    """Something went wrong with a database; the message says what and what to do next."""
