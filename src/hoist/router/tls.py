"""TLS for the router: one SSLContext per certificate, chosen by SNI.

Installed certificates (routes.json "tls.certs") win; a host in the routing
table without one gets a certificate from hoist's local CA, issued on the
first handshake and cached on disk (browsers, curl, Python and Node all
refuse a `*.localhost` wildcard, so each APP.localhost needs its own)."""
from __future__ import annotations

import datetime as dt
import ssl
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from cryptography import x509

from hoist.contracts.routes import TlsCert, normalize_host
from hoist.tls.ca import LocalCA, platform_names

REISSUE_DAYS = 30  # a cached local certificate this close to expiry is issued again


def _context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.load_cert_chain(cert, key)
    return ctx


def cert_names(pem: bytes) -> list[str]:
    """The DNS names a PEM certificate (its first one, the leaf) is valid for."""
    cert = x509.load_pem_x509_certificate(pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        return [n.lower() for n in san.value.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        return []


def _fresh(cert: Path, now: dt.datetime) -> bool:
    try:
        leaf = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError):
        return False
    return leaf.not_valid_after_utc - now > dt.timedelta(days=REISSUE_DAYS)


class Certificates:
    """The router's certificates: a default context whose SNI callback picks the right one."""

    def __init__(self, ca_dir: Path, cache_dir: Path, known: Callable[[str], bool],
                 warn: Callable[[str], None] | None = None) -> None:
        self.ca = LocalCA(ca_dir)
        self.cache_dir = cache_dir
        self.known = known  # is this host in the routing table?
        self.warn = warn or (lambda m: print(f"router: {m}", file=sys.stderr, flush=True))
        self.installed: dict[str, ssl.SSLContext] = {}  # exact and "*.parent" names
        self.local: dict[str, ssl.SSLContext] = {}
        self.ca.ensure()
        self.default = self._local_context("localhost", platform_names())
        self.default.sni_callback = self._sni

    def load(self, entries: Iterable[TlsCert]) -> None:
        """Replace the installed certificates; one without hosts serves the cert's own names."""
        installed: dict[str, ssl.SSLContext] = {}
        for entry in entries:
            try:
                cert, key = Path(entry.cert), Path(entry.key)
                ctx = _context(cert, key)
                ctx.sni_callback = self._sni
                for name in entry.hosts or cert_names(cert.read_bytes()):
                    installed.setdefault(name, ctx)
            except (OSError, ValueError, TypeError, ssl.SSLError) as exc:
                shown = {"cert": entry.cert, "key": entry.key, "hosts": list(entry.hosts)}
                self.warn(f"skipping certificate {shown!r}: {exc}")
        self.installed = installed

    def context_for(self, server_name: str | None) -> ssl.SSLContext | None:
        """The context for an SNI name, or None to keep the default."""
        if not server_name:
            return None
        host = normalize_host(server_name)
        ctx = self.installed.get(host)
        if ctx is None and "." in host:
            ctx = self.installed.get("*." + host.split(".", 1)[1])
        if ctx is not None:
            return ctx
        ctx = self.local.get(host)
        if ctx is None and self.known(host):
            ctx = self._local_context(host, [host])
            ctx.sni_callback = self._sni
            self.local[host] = ctx
        return ctx

    def _sni(self, sslobj: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        try:
            ctx = self.context_for(server_name)
        except Exception as exc:  # a failed issue must not kill the handshake loop
            self.warn(f"no certificate for {server_name!r}: {exc!r}")
            return None
        if ctx is not None:
            sslobj.context = ctx
        return None

    def _local_context(self, host: str, names: list[str]) -> ssl.SSLContext:
        dest = self.cache_dir / ("_default" if host == "localhost" else host)
        cert, key = dest / "cert.pem", dest / "key.pem"
        if not (key.exists() and _fresh(cert, dt.datetime.now(dt.timezone.utc))):
            self.ca.issue(names, dest)
        return _context(cert, key)
