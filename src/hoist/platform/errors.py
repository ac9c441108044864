"""The platform's one error type: an operation that cannot be done, with Heroku's API error id.

Every face turns it into its own shape (the API's JSON error body, the dashboard's page)."""
from __future__ import annotations


class PlatformError(Exception):
    """An operation that cannot be done; `id` is the Heroku API error id."""

    def __init__(self, id: str, message: str, status: int = 422, resource: str | None = None) -> None:
        super().__init__(message)
        self.id = id
        self.message = message
        self.status = status
        self.resource = resource
