"""A log drain's URL: which schemes hoist sends to, what each needs, and how a URL is shown (masked: it is a
secret). Pure; every error says what to send instead."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = ("syslog+tls", "syslog", "https")
MAX_URL = 2000
_EXAMPLES = "syslog+tls://logs.example.com:6514, syslog://logs.example.com:514 or https://user:pass@logs.example.com/path"


class InvalidDrainUrl(ValueError):
    """The URL cannot be a drain; the message says why and what a good one looks like."""


@dataclass(frozen=True)
class DrainUrl:
    scheme: str  # syslog | syslog+tls | https
    host: str
    port: int
    url: str  # the whole URL, as given (a secret)

    @property
    def tls(self) -> bool:
        return self.scheme != "syslog"

    @property
    def masked(self) -> str:
        return mask(self.url)


def parse_drain_url(text: object) -> DrainUrl:
    if not isinstance(text, str) or not text.strip():
        raise InvalidDrainUrl(f"Give the drain's URL, for example {_EXAMPLES}.")
    url = text.strip()
    if len(url) > MAX_URL or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise InvalidDrainUrl(f"A drain URL is one line of at most {MAX_URL} characters without spaces.")
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        shown = f"'{scheme}'" if scheme else "no scheme"
        hint = " (plain http:// would send your logs and credentials in the clear: use https://)" \
            if scheme == "http" else ""
        raise InvalidDrainUrl(f"A drain URL with {shown} is not supported{hint}. Use {_EXAMPLES}.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidDrainUrl(f"The drain URL's port is not a number from 1 to 65535. Use {_EXAMPLES}.") from None
    host = parts.hostname or ""
    if not host:
        raise InvalidDrainUrl(f"The drain URL names no host. Use {_EXAMPLES}.")
    if scheme == "https":
        return DrainUrl(scheme, host, port or 443, url)
    if port is None or port == 0:
        raise InvalidDrainUrl(f"A {scheme}:// drain needs a port, for example {scheme}://{host}:"
                              f"{6514 if scheme == 'syslog+tls' else 514}.")
    if parts.username or parts.password:
        raise InvalidDrainUrl(f"A {scheme}:// drain has no credentials (syslog has no login); use "
                              f"{scheme}://{host}:{port} or an https:// drain.")
    return DrainUrl(scheme, host, port, url)


def mask(url: str) -> str:
    """The URL as listings show it: scheme, host and port; credentials, path and query hidden (they may be
    tokens), e.g. https://***@logs.example.com/***."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "***"
    creds = "***@" if parts.username or parts.password else ""
    rest = "/***" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{creds}{host}{port}{rest}"
