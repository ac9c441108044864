"""Fixtures that start real processes: the router, gunicorn + Flask, raw socket servers."""
from __future__ import annotations

import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
VENV_BIN = Path(sys.executable).parent

FLASK_APP = '''
import hashlib, os, time
from flask import Flask, Response, request, jsonify, stream_with_context
app = Flask(__name__)

@app.route("/headers", methods=["GET", "POST"])
def headers():
    return jsonify(dict(request.headers))

@app.route("/upload", methods=["POST", "PUT"])
def upload():
    h = hashlib.sha256(); n = 0
    while True:
        chunk = request.stream.read(65536)
        if not chunk:
            break
        h.update(chunk); n += len(chunk)
    return jsonify({"bytes": n, "sha256": h.hexdigest()})

@app.route("/stream")
def stream():
    def gen():
        yield "first\\n"
        time.sleep(1.0)
        yield "second\\n"
    return Response(gen(), mimetype="text/plain")

@app.route("/empty")
def empty():
    return "", 204

@app.route("/sleep/<float:s>")
def sleep(s):
    time.sleep(s)
    return "slept"

@app.route("/die")
def die():
    def gen():
        yield "partial\\n"
        os.kill(os.getpid(), 9)  # the worker dies mid-response, like a killed dyno
    return Response(gen(), mimetype="text/plain")

@app.route("/die-early")
def die_early():
    os.kill(os.getpid(), 9)

@app.route("/pid")
def pid():
    return str(os.getpid())

@app.route("/")
def index():
    return "hello from flask"
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real gunicorn (sync, 2 workers) serving a tiny Flask app; yields its port."""
    d = tmp_path_factory.mktemp("flaskapp")
    (d / "app.py").write_text(FLASK_APP)
    port = free_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "30",
         "app:app"], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    yield port
    stop(proc)


class RouterProc:
    """A running `python -m hoist.router` and the log lines it printed."""

    def __init__(self, routes: Path, extra: list[str]) -> None:
        self.routes = routes
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=str(SRC))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hoist.router", "--listen", f"127.0.0.1:{self.port}",
             "--routes", str(routes), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.lines: list[str] = []
        self.errors: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.errors),
                         daemon=True).start()
        wait_port(self.port)

    @staticmethod
    def _read(stream: Any, into: list[str]) -> None:
        for raw in stream:
            into.append(raw.decode())

    def write_routes(self, data: dict[str, Any], reload: bool = True) -> None:
        tmp = self.routes.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.rename(tmp, self.routes)
        if reload:
            n = len(self.errors)
            self.proc.send_signal(signal.SIGHUP)
            self.wait(lambda: len(self.errors) > n, self.errors)

    def wait(self, pred: Callable[[], bool], what: list[str] | None = None,
             timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; got {what if what else self.lines}")
            time.sleep(0.02)

    def log_for(self, request_id: str) -> str:
        """The log line whose request_id matches (waits for it to be flushed)."""
        found: list[str] = []

        def seek() -> bool:
            found[:] = [ln for ln in self.lines if f"request_id={request_id} " in ln]
            return bool(found)
        self.wait(seek)
        return found[0]


@pytest.fixture
def start_router(tmp_path: Path) -> Iterator[Callable[..., RouterProc]]:
    """Factory: start a router on a free port with the given routes dict."""
    procs: list[RouterProc] = []

    def start(routes: dict[str, Any] | None, *extra: str) -> RouterProc:
        path = tmp_path / f"routes{len(procs)}.json"
        if routes is not None:
            path.write_text(json.dumps(routes))
        r = RouterProc(path, list(extra))
        procs.append(r)
        return r
    yield start
    for r in procs:
        stop(r.proc)


def app_routes(name: str, addrs: list[str], **kw: Any) -> dict[str, Any]:
    """A routes.json dict with one app on NAME.localhost."""
    backends = [{"dyno": f"web.{i + 1}", "addr": a} for i, a in enumerate(addrs)]
    app = {"hosts": [f"{name}.localhost"], "maintenance": False,
           "state": "up" if addrs else "none", "backends": backends}
    app.update(kw.pop("app", {}))
    return {"platform": kw.pop("platform", {"hosts": ["localhost"], "upstream": None}),
            "request_timeout": kw.pop("request_timeout", 30), "apps": {name: app}}


class RawServer:
    """A threaded TCP server whose handler gets each accepted socket."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        class H(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                handler(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.addr = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def make(handler: Callable[[socket.socket], None]) -> RawServer:
        s = RawServer(handler)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read until the end of an HTTP head; return (head, bytes after it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def named_server(name: str) -> Callable[[socket.socket], None]:
    """A raw keep-alive HTTP handler answering every request with NAME."""
    def handle(sock: socket.socket) -> None:
        while True:
            head, _ = read_head(sock)
            if not head:
                return
            body = name.encode()
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))
    return handle
