"""Request checks for the dashboard's forms (pure): same-origin POSTs, safe
redirect targets, cookie attributes, and the response headers every page gets."""
from __future__ import annotations

from urllib.parse import urlsplit

COOKIE = "hoist_session"
LOGIN_COOKIE = "hoist_login_csrf"
PREFIX = "/dashboard"

# No inline scripts or styles and nothing from elsewhere: a stored value that
# slipped past escaping still could not run.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def same_origin(origin: str | None, referer: str | None, host: str | None) -> bool:
    """False when the browser says the request comes from another site; True when it says nothing."""
    source = origin if origin not in (None, "") else referer
    if not source:
        return True  # old clients send neither; the CSRF token still has to match
    if source == "null":
        return False
    parts = urlsplit(source)
    return bool(host) and parts.netloc.lower() == (host or "").lower()


def safe_next(target: str | None) -> str:
    """A redirect target after login: a dashboard path on this host, else the apps list."""
    if (not target or not target.startswith(PREFIX + "/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 33 for c in target)):
        return PREFIX + "/"
    return target


def cookie_args(secure: bool, max_age: int | None = None) -> dict[str, object]:
    """Attributes for the session cookie: never readable by scripts, never sent cross-site."""
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": PREFIX + "/", "max_age": max_age}
