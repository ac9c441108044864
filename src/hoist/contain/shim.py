"""The shim: `python -I -S shim.py run FD` beside every long-lived unit (a dyno, the router, the TLS
front), or `python -I -S shim.py exec FD` as the launcher of an attached one-off dyno. `shim.py zygote FD`
forks a shim for each connection hoist passes it, so a dyno's start pays no interpreter start-up. Standard library
only, and no import of hoist: it starts on every dyno start and stays for the dyno's life.

FD carries the launch spec (a length-prefixed marshal'd dict from hoist, never argv or the environment:
it holds the dyno's config). `launch` becomes the unit: it joins the unit's cgroups first (so nothing it
runs is ever outside them), starts a session, drops to the app's user (setgroups, setgid, setuid), sets
rlimits and execs; it runs in a child the single-threaded shim forked, never in hoist's threaded process.

In `run` mode FD is also hoist's first connection. The shim owns the unit's output pipe and says, one
message per line:
    P<pid>     the unit's main process runs (it leads its own session and process group)
    L<bytes>   one line of its output (stdout and stderr together)
    D<n>       n lines were dropped (over the rate, or more than KEEP_BYTES waiting for hoist)
    X<status>  the main process exited: its exit status, negative for the signal that killed it
    E<text>    the unit could not be started (the shim exits)
hoist answers `A` once it is done with the unit (the shim exits when the unit's main process has).
When hoist goes away the shim keeps reading (the unit never blocks on its output) and keeps what it
can; the next hoist connects to the shim's socket (spec "listen", in a root-only directory), gets
P again, what was kept, and the exit status if there is one. Like podman's conmon."""
from __future__ import annotations

import _socket  # not socket: its enum imports cost every shim a megabyte
import marshal
import os
import select
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: every dyno has a shim, and memory counts
    from collections import deque
    from typing import Any

MAX_LINE = 10_000  # longer lines are split
KEEP_BYTES = 4 * 1024 * 1024  # output kept for hoist while it is away or slow
CHUNK = 65536
HOME_CHECK_S = 5.0  # how often the shim checks that its socket (its hoist home) still exists


def _deque() -> deque[bytes]:
    from collections import deque
    return deque()


def read_spec(fd: int) -> dict[str, Any]:
    """The spec hoist wrote on `fd`: 4 bytes of length, then a marshal'd dict."""
    data = b""
    need = 4
    while len(data) < need:
        chunk = os.read(fd, need - len(data))
        if not chunk:
            raise EOFError("hoist closed the spec before its end")
        data += chunk
        if need == 4 and len(data) == 4:
            need += int.from_bytes(data, "big")
    spec = marshal.loads(data[4:])
    if not isinstance(spec, dict):
        raise ValueError("the spec is not a dict")
    return spec


def launch(spec: dict[str, Any], stdio: tuple[int, int, int] | None = None) -> None:
    """Become the unit: join its cgroups, own session, dup stdio, drop privileges, rlimits, exec. Never returns."""
    import resource
    import signal
    me = str(os.getpid())
    for path in spec.get("join", ()):  # first: from here on, everything this process starts is in the unit
        with open(path, "w") as f:
            f.write(me)
    if stdio is not None:
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
    os.setsid()
    if spec.get("tty"):
        import fcntl
        import termios
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty is the controlling terminal: ^C is SIGINT
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores these; an exec'd program must not
        signal.signal(signum, signal.SIG_DFL)
    uid = spec.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(uid)
    for res, soft, hard in spec.get("rlimits", ()):  # after setuid: RLIMIT_NPROC counts the new user
        resource.setrlimit(res, (soft, hard))
    os.chdir(spec["cwd"])
    argv = spec["argv"]
    os.execve(argv[0], argv, spec["env"])


class Shim:
    """The `run` loop: the unit's output and exit, to whichever hoist is connected."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.conn: _socket.socket | None = None
        self.queue: deque[bytes] = _deque()
        self.queued = 0
        self.sent = 0  # bytes of queue[0] already sent
        self.dropped = 0
        self.rate = float(spec.get("rate") or 0)
        self.tokens = self.burst = 2 * self.rate
        self.last = time.monotonic()
        self.pid = 0
        self.status: bytes | None = None
        self.done = False  # hoist is done with the unit
        self.pending = b""

    def put(self, msg: bytes, force: bool = False) -> None:
        if not force and self.queued + len(msg) > KEEP_BYTES:
            self.dropped += 1
            return
        if self.dropped and self.queued + 16 <= KEEP_BYTES:
            drop, self.dropped = b"D%d\n" % self.dropped, 0
            self.queue.append(drop)
            self.queued += len(drop)
        self.queue.append(msg)
        self.queued += len(msg)

    def line(self, raw: bytes) -> None:
        if self.rate:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens < 1:
                self.dropped += 1
                return
            self.tokens -= 1
        self.put(b"L" + raw + b"\n")

    def output(self, data: bytes) -> None:
        """Bytes from the unit's pipe (b"" at EOF: the last partial line)."""
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        for raw in lines:
            self.line(raw)
        while len(self.pending) > MAX_LINE:
            self.line(self.pending[:MAX_LINE])
            self.pending = self.pending[MAX_LINE:]
        if not data and self.pending:
            self.line(self.pending)
            self.pending = b""

    def send(self) -> None:
        while self.conn is not None and self.queue:
            head = self.queue[0]
            try:
                n = self.conn.send(head[self.sent:])
            except BlockingIOError:
                return
            except OSError:
                self.disconnect()
                return
            self.sent += n
            if self.sent == len(head):
                self.queue.popleft()
                self.queued -= len(head)
                self.sent = 0

    def disconnect(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.sent and self.queue:  # the next hoist must not start in the middle of a message
            self.queued -= len(self.queue.popleft())
            self.sent = 0

    def connect(self, conn: _socket.socket) -> None:
        """A (new) hoist: it hears P first, then what was kept, then the exit status if any."""
        self.disconnect()
        conn.setblocking(False)
        self.conn = conn
        hello = b"P%d\n" % self.pid
        self.queue.appendleft(hello)
        self.queued += len(hello)
        if self.status is not None and self.status not in self.queue:
            self.queue.append(self.status)
            self.queued += len(self.status)

    def command(self) -> None:
        assert self.conn is not None
        try:
            data = self.conn.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.disconnect()
        elif b"A" in data:
            self.done = True


def _drain(fd: int, limit: int = 4 * 1024 * 1024) -> bytes:
    """What the pipe holds right now (the unit's last words), without waiting for a daemon's EOF."""
    out = b""
    while len(out) < limit:
        ready, _, _ = select.select([fd], [], [], 0)
        if not ready:
            break
        chunk = os.read(fd, CHUNK)
        if not chunk:
            break
        out += chunk
    return out


def _kill_unit(spec: dict[str, Any], pid: int) -> None:
    """The shim's home is gone: take the unit with it."""
    try:
        with open(spec["kill"], "w") as f:
            f.write("1")
        return
    except (KeyError, OSError):
        pass
    try:
        os.killpg(pid, 9)
    except OSError:
        pass


def run(spec: dict[str, Any], conn: _socket.socket) -> None:
    for path in spec.get("shim_join", ()):  # out of hoist's own cgroup: a stop of hoist's service leaves us
        try:
            with open(path, "w") as f:
                f.write(str(os.getpid()))
        except OSError as exc:
            raise OSError(f"cannot join the cgroup {os.path.dirname(path)}: {exc.strerror}") from None
    path = spec["listen"]
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        if os.path.exists(path):
            os.unlink(path)
        listener.bind(path)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise OSError(f"cannot listen on {path}: {exc.strerror}") from None
    listener.listen(4)
    listener.setblocking(False)
    ino = os.stat(path).st_ino
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            devnull = os.open(os.devnull, os.O_RDONLY)
            launch(spec, (devnull, w, w))
        except BaseException as exc:  # noqa: BLE001 - whatever stopped the exec, the unit says it and ends
            os.write(w, f"hoist: the process could not start: {exc}\n".encode())
        os._exit(127)
    os.close(w)
    shim = Shim(spec)
    shim.pid = pid
    shim.connect(conn)
    pidfd = os.pidfd_open(pid)
    pipe_open = True
    checked = time.monotonic()
    try:
        while not (shim.done and shim.status is not None):
            rd = [listener] + ([r] if pipe_open else []) + ([pidfd] if shim.status is None else [])
            rd += [shim.conn] if shim.conn is not None else []
            wr = [shim.conn] if shim.conn is not None and shim.queue else []
            readable, writable, _ = select.select(rd, wr, [], HOME_CHECK_S)
            if r in readable:
                data = os.read(r, CHUNK)
                shim.output(data)
                pipe_open = bool(data)
                if not data:
                    os.close(r)
            if pidfd in readable:
                _, status = os.waitpid(pid, 0)
                if pipe_open:
                    shim.output(_drain(r))
                shim.status = b"X%d\n" % os.waitstatus_to_exitcode(status)
                shim.put(shim.status, force=True)
                os.close(pidfd)
            if listener in readable:
                try:
                    fd, _ = listener._accept()  # type: ignore[attr-defined]  # _socket has no public accept
                    shim.connect(_socket.socket(fileno=fd))
                except BlockingIOError:
                    pass
            if shim.conn is not None and shim.conn in readable:
                shim.command()
            if writable or shim.queue:
                shim.send()
            if time.monotonic() - checked > HOME_CHECK_S:
                checked = time.monotonic()
                try:
                    gone = os.stat(path).st_ino != ino
                except OSError:
                    gone = True
                if gone:
                    if shim.status is None:
                        _kill_unit(spec, pid)
                    return
    finally:
        try:
            if os.stat(path).st_ino == ino:
                os.unlink(path)
        except OSError:
            pass


def serve(fd: int) -> None:
    """Be the shim of the unit whose spec (and first hoist) is on `fd`."""
    conn = _socket.socket(fileno=fd)
    try:
        spec = read_spec(fd)
    except Exception as exc:  # noqa: BLE001 - told to hoist, which raises it
        conn.sendall(f"Ebad spec: {exc}\n".encode())
        return
    try:
        run(spec, conn)
    except Exception as exc:  # noqa: BLE001
        try:
            conn.sendall(f"E{exc}\n".encode())
        except OSError:
            pass


def zygote(fd: int, join: list[str]) -> None:
    """Fork a shim for every connection hoist hands over on `fd` (SCM_RIGHTS), until hoist closes it. The
    interpreter is loaded already: a shim starts in about a millisecond and shares its pages; and it is born
    in the shims' cgroup (`join`: cgroup.procs files, joined once here: each write costs the kernel a lock)."""
    for path in join:
        with open(path, "w") as f:
            f.write(str(os.getpid()))
    import fcntl  # noqa: F401 - what `launch` imports, loaded once here and shared by every shim
    import resource  # noqa: F401
    import signal  # noqa: F401
    import termios  # noqa: F401
    ctl = _socket.socket(fileno=fd)
    space = _socket.CMSG_SPACE(4)
    while True:
        try:
            msg, ancdata, _, _ = ctl.recvmsg(1, space)
        except InterruptedError:
            continue
        if not msg:
            return  # hoist is gone
        fds = [int.from_bytes(data[:4], sys.byteorder) for level, kind, data in ancdata
               if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS and len(data) >= 4]
        if not fds:
            continue
        child = os.fork()
        if child == 0:
            ctl.close()
            if os.fork() > 0:  # the shim is nobody's child: neither this process nor hoist
                os._exit(0)
            os.setsid()
            serve(fds[0])
            os._exit(0)
        os.close(fds[0])
        os.waitpid(child, 0)


def main() -> None:
    mode, fd = sys.argv[1], int(sys.argv[2])
    os.chdir("/")
    if mode == "exec":
        try:
            spec = read_spec(fd)
            os.close(fd)
            launch(spec)
        except BaseException as exc:  # noqa: BLE001 - said on the one-off's own output
            os.write(2, f"hoist: the process could not start: {exc}\n".encode())
        os._exit(127)
    if mode == "zygote":
        zygote(fd, sys.argv[3:])
        return
    if os.fork() > 0:  # hoist's child exits at once: the shim is nobody's child it could be killed with
        os._exit(0)
    serve(fd)


if __name__ == "__main__":
    main()
