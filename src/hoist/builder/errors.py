"""The builder's one user-facing error type."""
from __future__ import annotations


class BuildError(Exception):
    """A build failure whose message says what went wrong and what to do next."""


class ProcfileError(BuildError):
    """A malformed Procfile; the message names the line."""
