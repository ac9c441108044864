"""ACME HTTP-01 challenge responses, served by the router from a directory the
ACME client writes (one file per token, holding the key authorization)."""
from __future__ import annotations

import re
from pathlib import Path

CHALLENGE_PREFIX = b"/.well-known/acme-challenge/"
_TOKEN = re.compile(rb"[A-Za-z0-9_-]{1,256}")  # base64url: never a path separator or dot


def acme_response(directory: Path | None, token: bytes) -> bytes | None:
    """The key authorization for a token, or None (no dir, bad token, or no such challenge)."""
    if directory is None or not _TOKEN.fullmatch(token):
        return None
    try:
        return (directory / token.decode("ascii")).read_bytes()
    except OSError:
        return None
