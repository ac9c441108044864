"""Credentials from a request: `Authorization: Bearer TOKEN`, or Basic with
the token as the password and any username (as Heroku's API and git accept)."""
from __future__ import annotations

import base64
import binascii


def token_from_header(value: str | None) -> str | None:
    """Extract the API token from an Authorization header value; None when absent or malformed."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    scheme = scheme.lower()
    rest = rest.strip()
    if scheme == "bearer" and rest:
        return rest
    if scheme == "basic" and rest:
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, sep, password = decoded.partition(":")
        return password if sep and password else None
    return None
