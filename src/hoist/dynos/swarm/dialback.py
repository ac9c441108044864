"""The entrypoint of a one-off dyno's swarm task: it dials back to hoist and bridges the command over that one
connection. hoist reaches only the manager, never a task on another node, so the task calls: TLS to
HOIST_ATTACH (HOIST_SWARM_HOST_ADDR:port, hoist's CA in HOIST_ATTACH_CA, DER in base64), the one-time secret
HOIST_ATTACH_SECRET as Heroku's rendezvous does, then frames both ways (frames.py; this file holds its own
copy of the tiny format because it runs alone, `python -c`, in the slug image: standard library only).

It runs `argv` (bash -c COMMAND) with a pty when HOIST_ATTACH_TTY=1 (the size in HOIST_ATTACH_SIZE, ROWSxCOLS),
else with pipes; sends its output, takes stdin, stdin's end, signals and window sizes; reports the exit status
(negative: killed by that signal) and exits with it. If hoist goes away the command gets SIGHUP. The attach
variables are not passed on to the command."""
from __future__ import annotations

import base64
import os
import pty
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time
from typing import Any

HEAD = struct.Struct("!cI")
CONNECT_FOR = 60.0  # seconds to keep trying to reach hoist (the manager may be briefly busy)


def connect() -> ssl.SSLSocket:
    host, _, port = os.environ["HOIST_ATTACH"].rpartition(":")
    ctx = ssl.create_default_context(cadata=base64.b64decode(os.environ["HOIST_ATTACH_CA"]))  # DER
    deadline = time.monotonic() + CONNECT_FOR
    while True:
        try:
            raw = socket.create_connection((host, int(port)), timeout=10)
            tls = ctx.wrap_socket(raw, server_hostname=host)
            tls.sendall(os.environ["HOIST_ATTACH_SECRET"].encode() + b"\r\n")
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = tls.recv(1)  # byte by byte: the frames right after the greeting are not to be lost
                if not chunk:
                    raise ConnectionError("hoist refused the one-off's secret")
                answer += chunk
            tls.settimeout(None)
            return tls
        except (OSError, ssl.SSLError) as exc:
            if time.monotonic() > deadline or isinstance(exc, ConnectionError):
                print(f"hoist one-off: cannot attach to hoist at {host}:{port}: {exc}", file=sys.stderr)
                sys.exit(255)
            time.sleep(1)


def send(tls: ssl.SSLSocket, kind: bytes, data: bytes = b"") -> None:
    tls.sendall(HEAD.pack(kind, len(data)) + data)


def start(argv: list[str], tty: bool, env: dict[str, str]) -> tuple[int, int, int | None, subprocess.Popen | None]:
    """(pid, output fd, stdin fd or None for the pty's, Popen or None)."""
    if tty:
        pid, master = pty.fork()
        if pid == 0:
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        return pid, master, master, None
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    return proc.pid, proc.stdout.fileno(), proc.stdin.fileno(), proc


def set_size(fd: int, text: str) -> None:
    import fcntl
    import termios
    rows, _, cols = text.partition("x")
    if rows.isdigit() and cols.isdigit():
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(rows), int(cols), 0, 0))


def main(argv: list[str]) -> int:
    tty = os.environ.get("HOIST_ATTACH_TTY") == "1"
    size = os.environ.get("HOIST_ATTACH_SIZE", "")
    tls = connect()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_ATTACH")}
    pid, out_fd, in_fd, proc = start(argv, tty, env)
    if tty and size:
        set_size(out_fd, size)

    def forward(signum: int, frame: object) -> None:
        try:
            os.killpg(pid, signum)
        except OSError:
            pass
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, forward)  # the task's PID 1: `docker service rm` signals here
    buf = b""
    out_open = True
    while out_open:
        readers: list[Any] = [tls, out_fd]
        ready = select.select(readers, [], [], 1.0)[0] if not tls.pending() else [tls]
        if tls in ready:
            try:
                chunk = tls.recv(65536)
            except (OSError, ssl.SSLError):
                chunk = b""
            if not chunk:  # hoist is gone: hang up on the command
                forward(signal.SIGHUP, None)
                break
            buf += chunk
            while len(buf) >= HEAD.size:
                kind, n = HEAD.unpack_from(buf)
                if len(buf) < HEAD.size + n:
                    break
                data, buf = buf[HEAD.size:HEAD.size + n], buf[HEAD.size + n:]
                if kind == b"I" and in_fd is not None:
                    try:
                        os.write(in_fd, data)
                    except OSError:
                        pass
                elif kind == b"E" and not tty and proc is not None and proc.stdin is not None:
                    proc.stdin.close()
                    in_fd = None
                elif kind == b"S" and data.isdigit():
                    forward(int(data), None)
                elif kind == b"W" and tty:
                    set_size(out_fd, data.decode())
                    forward(signal.SIGWINCH, None)
        if out_fd in ready:
            try:
                data = os.read(out_fd, 65536)
            except OSError:  # EIO: the pty's last writer closed
                data = b""
            if data:
                send(tls, b"O", data)
            else:
                out_open = False
    if proc is not None:
        rc = proc.wait()
    else:
        _, status = os.waitpid(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
    try:
        send(tls, b"X", str(rc).encode())
        tls.unwrap()
    except (OSError, ssl.SSLError, ValueError):
        pass
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
