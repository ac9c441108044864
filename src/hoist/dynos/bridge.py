"""Raw bytes both ways between a client socket and an attached dyno's
descriptors, in one thread with select: never blocks on a slow side, so
neither a process that ignores stdin nor a client that stops reading can
wedge the other direction."""
from __future__ import annotations

import errno
import os
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from hoist.dynos.attached import AttachedProcess

_CHUNK = 65536
_MAX_PENDING = 1 << 20  # stop reading the client while this much stdin waits for the process
_DRAIN_AFTER_EXIT = 0.5  # daemons may hold the output open after the process exits


def _recv(sock: socket.socket) -> bytes | None:
    """Bytes from the client; b'' on EOF; None when nothing is ready after all (TLS record not complete)."""
    try:
        return sock.recv(_CHUNK)
    except (ssl.SSLWantReadError, BlockingIOError):
        return None
    except (OSError, ssl.SSLError):
        return b""


@dataclass
class PumpResult:
    client_open: bool  # the client has not closed its side
    client_done: bool  # ... or its input has ended: it sent EOF or ^D (how the heroku CLI ends piped stdin)


def pump(sock: socket.socket, proc: AttachedProcess, exited: threading.Event,
         on_client_gone: Callable[[bool], None], initial: bytes = b"") -> PumpResult:
    """Bridge until the process's output ends (or it exited and the output stayed quiet)."""
    sock.setblocking(False)
    os.set_blocking(proc.fd_out, False)
    if proc.fd_in is not None and proc.fd_in != proc.fd_out:
        os.set_blocking(proc.fd_in, False)
    pending = bytearray(initial)  # client -> process
    client_open = True
    eot = initial.endswith(b"\x04")
    exit_seen_at: float | None = None
    while True:
        if exited.is_set() and exit_seen_at is None:
            exit_seen_at = time.monotonic()
        if exit_seen_at is not None and time.monotonic() - exit_seen_at > _DRAIN_AFTER_EXIT:
            return PumpResult(client_open, eot or not client_open)
        readers: list[Any] = [proc.fd_out]
        writers: list[Any] = []
        if client_open and len(pending) < _MAX_PENDING:
            readers.append(sock)
        if pending and proc.fd_in is not None:
            writers.append(proc.fd_in)
        ready_sock = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
        r, w, _ = select.select(readers, writers, [], 0 if ready_sock else 0.1)
        if client_open and (ready_sock or sock in r):
            data = _recv(sock)
            if data == b"":
                client_open = False
                on_client_gone(False)  # EOF: a half-close (stdin ended) or the client went away
            elif data:
                pending += data
                eot = data.endswith(b"\x04")
        if proc.fd_in is not None and proc.fd_in in w:
            try:
                n = os.write(proc.fd_in, pending)
                del pending[:n]
            except BlockingIOError:
                pass
            except OSError:
                pending.clear()  # the process closed its stdin: drop what it will never read
        if not client_open and not pending:
            proc.close_stdin()
        if proc.fd_out in r:
            try:
                out = os.read(proc.fd_out, _CHUNK)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno != errno.EIO:  # EIO: the pty's last slave closed, i.e. EOF
                    raise
                out = b""
            if not out:
                return PumpResult(client_open, eot or not client_open)
            if not _send_all(sock, out):
                client_open = False
                on_client_gone(True)


def _send_all(sock: socket.socket, data: bytes) -> bool:
    """Send everything (waiting while the client's window is full); False if the client is gone."""
    view = memoryview(data)
    while view:
        try:
            n = sock.send(view)
            view = view[n:]
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            select.select([], [sock], [], 1.0)
        except (OSError, ssl.SSLError):
            return False
    return True


def linger(sock: socket.socket, seconds: float) -> None:
    """Before closing, give the client a moment to finish its input.

    The heroku CLI starts sending stdin only after the first bytes arrive and
    ends it with ^D; a connection closed before that write makes it crash
    (EPIPE). So wait, bounded, for its ^D or its EOF; what it sends is dropped."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
        if not ready and not select.select([sock], [], [], left)[0]:
            return
        data = _recv(sock)
        if data == b"" or (data and data.endswith(b"\x04")):
            return


def send_final(sock: socket.socket, data: bytes, close: bool = True) -> None:
    """Last bytes to the client, then (unless told not to) a clean TLS close."""
    if data:
        _send_all(sock, data)
    if not close:
        return
    try:
        sock.setblocking(True)
        sock.settimeout(2.0)
        if isinstance(sock, ssl.SSLSocket):
            sock.unwrap()
    except (OSError, ssl.SSLError, ValueError):
        pass
