"""Fetching a source_blob URL from outside hoist (only when the admin set HOIST_SOURCE_FETCH).

A URL is a request hoist makes on a user's behalf, so it must not reach what only hoist can reach:
http and https only (never file://), and never a private, loopback, link-local, multicast or otherwise
non-public address. The name is resolved once, every address it resolves to is checked, and the
connection goes to the checked address itself (the Host header and TLS name stay the URL's), so a
name that resolves differently the second time (DNS rebinding) cannot slip through. Redirects are
followed a few times, each one checked the same way."""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from hoist.platform.tarball import SourceError

MAX_REDIRECTS = 5
TIMEOUT = 30.0  # seconds per connect and per read

Resolve = Callable[[str, int], list[str]]
Allow = Callable[[str], bool]


def system_resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SourceError(f"cannot resolve {host!r} ({exc.strerror}); check the source_blob URL") from None
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: str) -> bool:
    """A global unicast address: not private, loopback, link-local, multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or SourceError saying why it is not one."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        raise SourceError("file:// URLs are never fetched: hoist would read its own files. Upload the tarball "
                          "with POST /sources (or `hoist builds:create`)")
    if scheme not in ("http", "https"):
        what = f"a {scheme}:// URL" if scheme else "a URL without a scheme"
        raise SourceError(f"source_blob.url must be an http:// or https:// URL, not {what}")
    if not parts.hostname:
        raise SourceError(f"source_blob.url {url!r} names no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise SourceError(f"source_blob.url {url!r} has an invalid port") from None
    return scheme, parts.hostname, port


def checked_address(host: str, port: int, resolve: Resolve = system_resolve, allow: Allow = is_public) -> str:
    """The address to connect to: every address `host` resolves to must be allowed (public)."""
    addresses = resolve(host, port)
    if not addresses:
        raise SourceError(f"{host!r} resolves to no address")
    refused = [a for a in addresses if not allow(a)]
    if refused:
        raise SourceError(f"{host!r} resolves to {', '.join(refused)}, a private, loopback or link-local address; "
                          "hoist fetches sources only from public addresses")
    return addresses[0]


def inside(host: str, port: int) -> str | None:
    """Why a connection to host:port would reach inside (a private, loopback or link-local address, or a name
    that does not resolve); None when every address it resolves to is public. For features only the admin may
    point at a private network (connected repositories, log drains)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"{host!r} does not resolve ({exc.strerror})"
    refused = sorted({str(a[4][0]) for a in addresses if not is_public(str(a[4][0]))})
    return f"{host!r} resolves to {', '.join(refused)}, a private, loopback or link-local address" if refused else None


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a checked address, speaking to the URL's host name."""

    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(host, port, timeout=TIMEOUT)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), TIMEOUT)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=TIMEOUT, context=self.tls)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), TIMEOUT)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def fetch(url: str, dest: Path, max_bytes: int, resolve: Resolve = system_resolve, allow: Allow = is_public) -> int:
    """Download `url` into `dest` (at most max_bytes); return the size. Blocking: run it in a thread."""
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = check_url(url)
        address = checked_address(host, port, resolve, allow)
        conn: http.client.HTTPConnection = (_PinnedHTTPS if scheme == "https" else _PinnedHTTP)(host, port, address)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", target, headers={"User-Agent": "hoist", "Accept": "*/*"})
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308) and resp.getheader("location"):
                url = urljoin(url, resp.getheader("location") or "")
                continue
            if resp.status != 200:
                raise SourceError(f"fetching the source answered HTTP {resp.status} {resp.reason}; check the URL")
            declared = resp.getheader("content-length") or ""
            if declared.isdigit() and int(declared) > max_bytes:
                raise SourceError(_too_big(max_bytes))
            return _save(resp, dest, max_bytes)
        except (OSError, http.client.HTTPException) as exc:
            raise SourceError(f"fetching the source from {host} failed: {exc}") from None
        finally:
            conn.close()
    raise SourceError(f"the source URL redirected more than {MAX_REDIRECTS} times")


def _save(resp: http.client.HTTPResponse, dest: Path, max_bytes: int) -> int:
    size = 0
    with dest.open("wb") as out:
        while chunk := resp.read(1 << 16):
            size += len(chunk)
            if size > max_bytes:
                raise SourceError(_too_big(max_bytes))
            out.write(chunk)
    return size


def _too_big(max_bytes: int) -> str:
    return f"the source is over {max_bytes // (1024 * 1024)} MiB (HOIST_SOURCE_MAX_MB); keep large data out of it"
