"""The rendezvous server: where `hoist run` and `heroku run` attach to a
one-off dyno (Heroku's `rendezvous://HOST:PORT/SECRET` attach URLs).

TLS with a certificate from hoist's local CA. The client writes SECRET and
CRLF; a known, unexpired secret (single use) gets `rendezvous\\r\\n` and then
raw bytes both ways, handed to the handler registered with the secret. A
wrong, reused or expired secret gets the connection closed and nothing runs.
Blocking sockets in threads: the bridge needs TLS half-close (stdin EOF while
output still flows), which asyncio's TLS transport does not offer."""
from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from hoist.tls.ca import LocalCA

SECRET_TTL = 60.0
HANDSHAKE_TIMEOUT = 10.0
MAX_SECRET_LINE = 512
MAX_CONNECTIONS = 64

Handler = Callable[[ssl.SSLSocket, bytes], None]


@dataclass
class _Session:
    expires: float
    handler: Handler
    on_expire: Callable[[], None]


def _digest(secret: str) -> str:
    # Sessions are keyed by a hash so a lookup's timing says nothing about the secrets.
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def parse_secret_line(buf: bytes) -> tuple[str, bytes] | None:
    """`SECRET\\r\\n...` -> (SECRET, the bytes after the line); None until a full line arrived. Pure."""
    end = buf.find(b"\n")
    if end < 0:
        return None
    line = buf[:end].rstrip(b"\r")
    try:
        return line.decode("ascii").strip(), buf[end + 1:]
    except UnicodeDecodeError:
        return "", buf[end + 1:]


class Rendezvous:
    def __init__(self, ca: LocalCA, cert_dir: Path, *, host: str = "127.0.0.1", port: int = 0,
                 ttl: float = SECRET_TTL, clock: Callable[[], float] = time.monotonic,
                 names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> None:
        self.ca = ca
        self.names = names  # what its certificate names (a swarm's dial-back listener: the host address)
        self.cert_dir = cert_dir
        self.host = host
        self._want_port = port
        self.ttl = ttl
        self.clock = clock
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._ctx: ssl.SSLContext | None = None
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._closed = False

    @property
    def port(self) -> int:
        assert self._sock is not None, "start() first"
        return int(self._sock.getsockname()[1])

    def url(self, secret: str) -> str:
        return f"rendezvous://{self.host}:{self.port}/{secret}"

    def start(self) -> None:
        """Bind, load (or issue) the certificate, and accept connections in a background thread."""
        self.ca.ensure()
        pair = self.ca.issue(list(self.names), self.cert_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        # A client ends stdin with a TCP half-close under TLS; it must not make the stream unwritable.
        ctx.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
        ctx.load_cert_chain(str(pair.cert), str(pair.key))
        self._ctx = ctx
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._want_port))
        sock.listen(64)
        self._sock = sock
        threading.Thread(target=self._accept_loop, name="rendezvous", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()

    def register(self, secret: str, handler: Handler, on_expire: Callable[[], None] = lambda: None) -> None:
        """Accept one connection presenting `secret` within the TTL; `handler` then owns it (in a thread)."""
        with self._lock:
            self._sessions[_digest(secret)] = _Session(self.clock() + self.ttl, handler, on_expire)

    def expire(self) -> int:
        """Drop sessions nobody claimed in time (their on_expire runs); return how many."""
        now = self.clock()
        with self._lock:
            gone = [k for k, s in self._sessions.items() if s.expires <= now]
            dropped = [self._sessions.pop(k) for k in gone]
        for s in dropped:
            s.on_expire()
        return len(dropped)

    def _claim(self, secret: str) -> _Session | None:
        with self._lock:
            session = self._sessions.pop(_digest(secret), None) if secret else None
        if session is not None and session.expires <= self.clock():
            session.on_expire()
            return None
        return session

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                if self._closed:
                    return
                continue
            if not self._slots.acquire(blocking=False):
                conn.close()  # too many at once: refuse rather than queue without bound
                continue
            threading.Thread(target=self._serve, args=(conn,), name="rendezvous-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(HANDSHAKE_TIMEOUT)
            assert self._ctx is not None
            try:
                tls = self._ctx.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                return
            with tls:
                parsed = self._read_secret(tls)
                session = self._claim(parsed[0]) if parsed else None
                if session is None or parsed is None:
                    return  # wrong, reused or expired: close without a word
                tls.settimeout(None)
                tls.sendall(b"rendezvous\r\n")
                session.handler(tls, parsed[1])
        except (OSError, ssl.SSLError):
            pass
        finally:
            self._slots.release()

    def _read_secret(self, tls: ssl.SSLSocket) -> tuple[str, bytes] | None:
        buf = b""
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        while time.monotonic() < deadline and len(buf) <= MAX_SECRET_LINE:
            parsed = parse_secret_line(buf)
            if parsed is not None:
                return parsed
            chunk = tls.recv(1024)
            if not chunk:
                return None
            buf += chunk
        return None
