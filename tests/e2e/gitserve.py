"""Real git servers for the "connected repository" of the e2e tests: `git daemon` on 127.0.0.1 (public,
git://), and `git http-backend` behind a token check (a private https-style repository over http://),
plus GitHub's push-event payload, signed as GitHub signs it."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.e2e.harness import free_port


class GitDaemon:
    """`git daemon` serving every bare repository under `root` (read-only) on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", f"--port={self.port}",
             f"--base-path={self.root}", str(self.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("git daemon did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class PrivateGitHttp:
    """`git http-backend` (smart HTTP, read-only) that answers 401 unless Basic auth carries `token`."""

    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.expected = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        self.seen_auth: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                auth = self.headers.get("Authorization", "")
                outer.seen_auth.append(auth)
                if auth != outer.expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="private"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {"GIT_PROJECT_ROOT": str(outer.root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path,
                       "QUERY_STRING": query, "REQUEST_METHOD": self.command, "REMOTE_USER": "ci",
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                       "PATH": "/usr/bin:/bin"}
                if self.headers.get("Git-Protocol"):
                    env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
                out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
                head, _, payload = out.partition(b"\r\n\r\n")
                status = 200
                headers = []
                for line in head.decode().split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def github_push(repo: Path, branch: str, before: str, after: str, forced: bool = False) -> dict[str, Any]:
    """A push event payload in GitHub's shape (the fields GitHub documents, with this repository's commit)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    message, stamp, tree = git("log", "-1", "--format=%s", after), git("log", "-1", "--format=%cI", after), \
        git("log", "-1", "--format=%T", after)
    person = {"name": "Test", "email": "test@example.com", "username": "octocat"}
    commit = {"id": after, "tree_id": tree, "distinct": True, "message": message, "timestamp": stamp,
              "url": f"https://github.com/octocat/notes/commit/{after}", "author": person, "committer": person,
              "added": [], "removed": [], "modified": ["app.py"]}
    owner = {"name": "octocat", "email": "octocat@github.com", "login": "octocat", "id": 583231,
             "node_id": "MDQ6VXNlcjU4MzIzMQ==", "type": "User", "site_admin": False}
    return {
        "ref": f"refs/heads/{branch}", "before": before, "after": after,
        "repository": {"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "notes",
                       "full_name": "octocat/notes", "private": False, "owner": owner,
                       "html_url": "https://github.com/octocat/notes", "fork": False,
                       "clone_url": "https://github.com/octocat/notes.git",
                       "git_url": "git://github.com/octocat/notes.git", "ssh_url": "git@github.com:octocat/notes.git",
                       "default_branch": "main", "master_branch": "main", "pushed_at": int(time.time())},
        "pusher": {"name": "octocat", "email": "octocat@github.com"},
        "sender": {"login": "octocat", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==", "type": "User",
                   "site_admin": False},
        "created": False, "deleted": after == "0" * 40, "forced": forced, "base_ref": None,
        "compare": f"https://github.com/octocat/notes/compare/{before[:12]}...{after[:12]}",
        "commits": [commit], "head_commit": commit,
    }


def github_headers(body: bytes, secret: str, event: str = "push", delivery: str | None = None) -> dict[str, str]:
    """The headers GitHub sends with a delivery, signed with `secret` (sha1 and sha256, as GitHub does)."""
    return {
        "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "292430182", "X-GitHub-Hook-Installation-Target-ID": "1296269",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
