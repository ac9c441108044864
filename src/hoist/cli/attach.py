"""The client side of an attached run: TLS to the rendezvous server (trusting
only hoist's CA), the secret, then raw bytes between this terminal (or these
pipes) and the dyno until it reports its exit status."""
from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import sys
import termios
import tty
from typing import Any, Iterator

from hoist.cli.errors import HoistError
from hoist.cli.exitmarker import MarkerFilter, parse_attach_url

_CHUNK = 65536
_GREETING = b"rendezvous\r\n"


def connect(attach_url: str, ca_pem: str, timeout: float = 30.0) -> ssl.SSLSocket:
    """Open the rendezvous connection, send the secret, and read the greeting."""
    try:
        host, port, secret = parse_attach_url(attach_url)
    except ValueError as exc:
        raise HoistError(f"the API sent an attach URL hoist cannot use ({exc}); is it a hoist server?") from None
    ctx = ssl.create_default_context(cadata=ca_pem)  # hoist's CA only, not the system's
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
        sock = ctx.wrap_socket(raw, server_hostname=host)
        sock.sendall(secret.encode() + b"\r\n")
        greeting = b""
        while not greeting.startswith(_GREETING):
            chunk = sock.recv(len(_GREETING) - len(greeting))
            if not chunk:
                raise HoistError("the dyno closed the connection before it started (the attach secret was "
                                 "refused or expired); run the command again.")
            greeting += chunk
    except ssl.SSLCertVerificationError as exc:
        raise HoistError(f"the rendezvous server's certificate is not from this hoist's CA ({exc.verify_message}); "
                         "check HOIST_API_URL points at the right server.") from None
    except OSError as exc:
        raise HoistError(f"cannot connect to the dyno at {host}:{port}: {exc}") from None
    sock.settimeout(None)
    return sock


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """Raw mode for the session (keys, ^C and ^D go to the dyno); restored however it ends."""
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _half_close(sock: ssl.SSLSocket) -> None:
    """Tell the dyno stdin ended while still reading its output: a TCP half-close under the TLS stream."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_WR)


def bridge(sock: ssl.SSLSocket, *, stdin_fd: int, stdout_fd: int, tty_mode: bool) -> int | None:
    """Copy bytes both ways until the dyno closes; return its exit status (None if it never said)."""
    marker = MarkerFilter()
    stdin_open = True
    sock.setblocking(False)
    try:
        while True:
            readers: list[Any] = [sock] + ([stdin_fd] if stdin_open else [])
            ready_sock = sock.pending() > 0
            r, _, _ = select.select(readers, [], [], 0 if ready_sock else None)
            if ready_sock or sock in r:
                try:
                    data = sock.recv(_CHUNK)
                except (ssl.SSLWantReadError, BlockingIOError):
                    data = None
                except (OSError, ssl.SSLError):
                    data = b""
                if data == b"":
                    break
                if data:
                    _write_all(stdout_fd, marker.feed(data))
                    if marker.finish()[1] is not None:
                        break  # the exit status is the last thing the dyno sends
            if stdin_open and stdin_fd in r:
                chunk = os.read(stdin_fd, _CHUNK)
                if not chunk:
                    stdin_open = False
                    if not tty_mode:
                        _half_close(sock)
                else:
                    sock.setblocking(True)
                    sock.sendall(chunk)
                    sock.setblocking(False)
    finally:
        rest, code = marker.finish()
        _write_all(stdout_fd, rest)
        with contextlib.suppress(OSError):
            sock.close()
    return code


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def terminal_size() -> tuple[int, int] | None:
    for stream in (sys.stdout, sys.stdin):
        try:
            size = os.get_terminal_size(stream.fileno())
            return size.lines, size.columns
        except (OSError, ValueError):
            continue
    return None
