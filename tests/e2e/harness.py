"""A real `hoist server` in a subprocess, the real `hoist` CLI and real `git`.

Every e2e test module uses these; nothing here is mocked."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
EXAMPLES = REPO / "examples"
ACCEPT = "application/vnd.heroku+json; version=3"
SHARED_PYTHONS = Path("/tmp/hoist-test-pythons")

# The machine's network settings reach builds through hoist's own allowlist;
# everything else of the test runner's environment stays out.
_PASS_THROUGH = ("PATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
                 "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                 "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_NATIVE_TLS", "LANG")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(user_home: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
    env["HOME"] = str(user_home)
    env["PYTHONPATH"] = str(SRC)
    # One interpreter mirror for every test server (it is read-only and costs a copy per home otherwise).
    env["HOIST_PYTHONS"] = str(SHARED_PYTHONS)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "Test"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "test@example.com"
    return env


@dataclass
class HoistServer:
    home: Path
    user_home: Path
    port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def token(self) -> str:
        return (self.home / "admin-token").read_text().strip()

    def env(self) -> dict[str, str]:
        env = base_env(self.user_home)
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> None:
        self.user_home.mkdir(parents=True, exist_ok=True)
        self.output = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hoist", "server", "--home", str(self.home), "--port", str(self.port),
             "--tls-port", str(self.tls_port)],
            env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        ready = threading.Event()

        def reader() -> None:
            assert self.proc and self.proc.stdout
            for line in self.proc.stdout:
                self.output.append(line.rstrip("\n"))
                if line.strip() == "hoist: ready":
                    ready.set()
            ready.set()

        threading.Thread(target=reader, daemon=True).start()
        if not ready.wait(timeout) or self.proc.poll() is not None:
            raise RuntimeError("hoist server did not start:\n" + "\n".join(self.output))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def api(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Accept": ACCEPT, "Authorization": f"Bearer {token or self.token}"}
        headers.update(kw.pop("headers", {}))
        return httpx.request(method, self.url + path, headers=headers, timeout=120, **kw)

    def app_get(self, app: str, path: str = "/", **kw: Any) -> httpx.Response:
        """A request to the app through the router (Host: APP.localhost)."""
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", headers={"Host": f"{app}.localhost"},
                         timeout=60, **kw)

    def cli(self, *args: str, cwd: Path | None = None, token: str | None = None, timeout: float = 300,
            check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
        env = self.env()
        env["HOIST_API_URL"] = self.url
        env["HOIST_API_KEY"] = token or self.token
        env["HOIST_HOME"] = str(self.home)
        proc = subprocess.run([sys.executable, "-m", "hoist", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout, input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"hoist {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def git(self, repo: Path, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["git", *args], cwd=repo, env=self.env(), capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def push(self, repo: Path, remote: str = "hoist", branch: str = "main", check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.git(repo, "push", remote, f"HEAD:{branch}", check=check)

    def wait_for(self, app: str, text: str, timeout: float = 30) -> httpx.Response:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.app_get(app)
                if text in last.text:
                    return last
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
        raise AssertionError(f"{app} never answered with {text!r}; last: {last!r}")


def make_repo(path: Path, files: dict[str, str], env: dict[str, str]) -> Path:
    """A git repo with these files committed on main."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True, env=env)
    commit_files(path, files, env, "initial")
    return path


def commit_files(path: Path, files: dict[str, str | None], env: dict[str, str], message: str) -> None:
    for name, content in files.items():
        target = path / name
        if content is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message], cwd=path, check=True, env=env)


def example_files(name: str) -> dict[str, str]:
    root = EXAMPLES / name
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}


class Load:
    """Requests in a background thread, counting failures: 'requests made throughout all succeed'."""

    def __init__(self, server: HoistServer, app: str, interval: float = 0.05) -> None:
        self.server, self.app, self.interval = server, app, interval
        self.ok = 0
        self.failures: list[str] = []
        self.bodies: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    r = client.get(f"http://127.0.0.1:{self.server.port}/", headers={"Host": f"{self.app}.localhost"})
                    if r.status_code == 200:
                        self.ok += 1
                        self.bodies.add(r.text)
                    else:
                        self.failures.append(f"{r.status_code}: {r.text[:100]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                time.sleep(self.interval)

    def __enter__(self) -> "Load":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)
