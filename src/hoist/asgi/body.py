"""A small JSON request body, read with a bound: the API's bodies and the dashboard's fetches."""
from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

MAX_BODY = 1024 * 1024  # API bodies are small JSON documents


class BodyError(Exception):
    """A body that cannot be read: an HTTP status, Heroku's error id, and what to send instead."""

    def __init__(self, status: int, id: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.id = id
        self.message = message


def _too_large() -> BodyError:
    return BodyError(413, "request_too_large", "The request body is over 1 MiB; send less data.")


async def read_json(request: Request) -> Any:
    """The parsed body ({} when empty); BodyError when over 1 MiB (refused before a byte is read, when
    declared) or not JSON."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise _too_large()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BodyError(400, "bad_request", "The request body is not valid JSON.") from None
