"""Router error pages: one small HTML template, one entry per Heroku error code (pure)."""
from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class RouterError:
    """A router error: the logged code/desc and the page the client sees."""

    code: str | None
    desc: str
    status: int
    title: str
    hint: str


ERRORS: dict[str, RouterError] = {e.code or "": e for e in (
    RouterError("H10", "App crashed", 503, "Application error",
                "The app's web dynos have crashed. Run `hoist logs --tail -a APP` to see why, "
                "then `hoist ps -a APP`."),
    RouterError("H12", "Request timeout", 503, "Application error",
                "The app did not answer in time. Check `hoist logs -a APP` for slow requests."),
    RouterError("H13", "Connection closed without response", 503, "Application error",
                "The web dyno closed the connection without answering. "
                "Check `hoist logs -a APP` for a crash."),
    RouterError("H14", "No web processes running", 503, "Application error",
                "No web dynos are running. Scale up with `hoist ps:scale web=1 -a APP`."),
    RouterError("H19", "Backend connection timeout", 503, "Application error",
                "The router could not connect to a web dyno in time. "
                "Check `hoist ps -a APP`."),
    RouterError("H20", "App boot timeout", 503, "Application error",
                "The app was asleep and did not wake in time. Run `hoist logs -a APP` to see why."),
    RouterError("H80", "Maintenance mode", 503, "Offline for maintenance",
                "This app is in maintenance mode; please check back soon. "
                "The owner can run `hoist maintenance:off -a APP`."),
)}
NOT_FOUND = RouterError(None, "No such app", 404, "No such app",
                        "There is no app at this address. Run `hoist apps` to list apps "
                        "and `hoist domains -a APP` to see an app's hosts.")
BAD_REQUEST = RouterError(None, "Bad request", 400, "Bad request",
                          "The request was not valid HTTP/1.1 (or had no Host header).")
TOO_LARGE = RouterError(None, "Request header fields too large", 431,
                        "Request header fields too large",
                        "The request line must stay under 8 KiB and headers under 64 KiB.")
TIMEOUT = RouterError(None, "Request timeout", 408, "Request timeout",
                      "The request headers did not arrive in time.")

_TEMPLATE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:4em auto;color:#333}}
code{{background:#eee;padding:0 .2em}}</style></head>
<body><h1>{title}</h1><p>{desc}{code}</p><p>{hint}</p></body></html>
"""


def render_body(err: RouterError) -> bytes:
    """The HTML body of an error page."""
    code = f" ({html.escape(err.code)})" if err.code else ""
    return _TEMPLATE.format(title=html.escape(err.title), desc=html.escape(err.desc),
                            code=code, hint=html.escape(err.hint)).encode()


_REASONS = {400: b"Bad Request", 404: b"Not Found", 408: b"Request Timeout",
            431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}


@lru_cache(maxsize=64)
def render_response(err: RouterError, close: bool, head_only: bool = False) -> bytes:
    """A whole HTTP/1.1 response carrying the error page."""
    body = render_body(err)
    head = (b"HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Length: %d\r\nCache-Control: no-cache, no-store\r\n"
            % (err.status, _REASONS.get(err.status, b"Error"), len(body)))
    if close:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + (b"" if head_only else body)
