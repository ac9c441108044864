"""How a drain's lines leave hoist: one TCP (or TLS) connection for syslog drains, HTTPS POSTs for https
drains. Blocking, with timeouts: each runs in its drain's own thread, never on the server's loop.

Errors are one type, `DeliveryError`, whose message names host and port but never the URL (it is a secret);
`certificate` says the receiver's certificate did not verify (Heroku's L14)."""
from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Sequence
from typing import Protocol

import httpx

from hoist.logs import drain_format
from hoist.logs.drain_url import DrainUrl
from hoist.logs.line import LogLine

CONNECT_TIMEOUT = 5.0
SEND_TIMEOUT = 10.0


class DeliveryError(Exception):
    def __init__(self, message: str, certificate: bool = False) -> None:
        super().__init__(message)
        self.certificate = certificate


class Transport(Protocol):
    def send(self, lines: Sequence[LogLine], frame_id: str) -> None: ...

    def close(self) -> None: ...


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The system's trusted CAs (verification on), plus `ca_file` (HOIST_DRAIN_CA_FILE) when given."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


def _cert_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def certificate_message(where: str, exc: ssl.SSLCertVerificationError) -> str:
    return (f"the certificate of {where} does not verify ({exc.verify_message or exc.reason}); nothing was "
            "sent. Use a certificate a public CA signed, or give hoist your CA with HOIST_DRAIN_CA_FILE")


class SyslogTransport:
    """Octet-counted RFC 5424 frames on one connection, reopened when it breaks."""

    def __init__(self, target: DrainUrl, token: str, context: ssl.SSLContext | None) -> None:
        self.target = target
        self.token = token
        self.context = context
        self.where = f"{target.host}:{target.port}"
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        try:
            raw = socket.create_connection((self.target.host, self.target.port), timeout=CONNECT_TIMEOUT)
        except socket.gaierror:
            raise DeliveryError(f"cannot resolve {self.target.host}: check the drain's host name") from None
        except ConnectionRefusedError:
            raise DeliveryError(f"{self.where} refused the connection (is the receiver running?)") from None
        except OSError as exc:
            raise DeliveryError(f"cannot connect to {self.where}: {exc.strerror or exc}") from None
        if self.context is None:
            raw.settimeout(SEND_TIMEOUT)
            return raw
        try:
            sock = self.context.wrap_socket(raw, server_hostname=self.target.host)
        except ssl.SSLCertVerificationError as exc:
            raw.close()
            raise DeliveryError(certificate_message(self.where, exc), certificate=True) from None
        except (OSError, ssl.SSLError) as exc:
            raw.close()
            raise DeliveryError(f"the TLS handshake with {self.where} failed: {exc}") from None
        sock.settimeout(SEND_TIMEOUT)
        return sock

    def _closed_by_peer(self, sock: socket.socket) -> bool:
        """A syslog receiver never writes: a readable socket is one the receiver closed (or is closing)."""
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            sock.setblocking(False)
            try:
                return sock.recv(4096) == b""
            finally:
                sock.settimeout(SEND_TIMEOUT)
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except (OSError, ValueError):
            return True

    def send(self, lines: Sequence[LogLine], frame_id: str) -> None:
        if self._sock is not None and self._closed_by_peer(self._sock):
            self.close()
        sock = self._sock
        if sock is None:
            sock = self._sock = self._connect()
        try:
            sock.sendall(drain_format.frames(lines, self.token))
        except OSError as exc:
            self.close()
            raise DeliveryError(f"the connection to {self.where} broke: {exc.strerror or exc}") from None

    def close(self) -> None:
        """Also from another thread: shutdown() ends a sendall() blocked on a receiver that reads nothing."""
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass


class HttpsTransport:
    """Logplex frames: one POST per batch, any 2xx accepts it."""

    def __init__(self, target: DrainUrl, token: str, context: ssl.SSLContext) -> None:
        self.target = target
        self.token = token
        self.where = f"{target.host}:{target.port}"
        self._client = httpx.Client(verify=context, timeout=httpx.Timeout(SEND_TIMEOUT, connect=CONNECT_TIMEOUT),
                                    follow_redirects=False)

    def send(self, lines: Sequence[LogLine], frame_id: str) -> None:
        body = drain_format.frames(lines, "host")
        headers = drain_format.logplex_headers(len(lines), frame_id, self.token)
        try:
            resp = self._client.post(self.target.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            cert = _cert_error(exc)
            if cert is not None:
                raise DeliveryError(certificate_message(self.where, cert), certificate=True) from None
            if isinstance(exc, httpx.ConnectError):
                raise DeliveryError(f"cannot connect to {self.where} (is the receiver running?)") from None
            raise DeliveryError(f"the POST to {self.where} failed: {type(exc).__name__}") from None
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(f"{self.where} answered HTTP {resp.status_code} to the drain's POST")

    def close(self) -> None:
        self._client.close()


def transport_for(target: DrainUrl, token: str, ca_file: str | None) -> Transport:
    if target.scheme == "https":
        return HttpsTransport(target, token, tls_context(ca_file))
    return SyslogTransport(target, token, tls_context(ca_file) if target.tls else None)
