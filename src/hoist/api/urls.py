"""The scheme and host a client reached the API by, for the URLs the API hands back to it
(a source's put_url and get_url, a build's output_stream_url)."""
from __future__ import annotations

import re

from starlette.requests import Request

from hoist.settings import Settings

_HOST_RE = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def base_url(request: Request | None, settings: Settings) -> str:
    """`http://HOST[:PORT]` as the client called it (through the router, which says the scheme);
    `http://localhost:PORT` when the request names no usable host."""
    host = request.headers.get("host", "") if request is not None else ""
    if not _HOST_RE.match(host):
        return f"http://localhost:{settings.port}"
    proto = request.headers.get("x-forwarded-proto", "http") if request is not None else "http"
    return f"{'https' if proto == 'https' else 'http'}://{host}"
