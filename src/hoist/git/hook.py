"""The pre-receive hook: `git` runs it inside `git http-backend` after a
push's objects arrive and before any ref moves. It streams the pushed tree
to the hoist server, prints the build output as it comes (git shows it to
the pusher as `remote:` lines) and rejects the push if the deploy fails.

Kept to the standard library (and hoist.contracts, which is too): it starts on every push."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
from typing import Iterator
from urllib.parse import urlsplit

from hoist.contracts.build import read_result_line

ZERO = "0" * 40
DEPLOY_REFS = ("refs/heads/main", "refs/heads/master")


def check_updates(lines: list[str]) -> tuple[str | None, str | None]:
    """Pick the commit to deploy from pre-receive input; return (commit, error)."""
    deploy: str | None = None
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        old, new, ref = parts
        if ref not in DEPLOY_REFS:
            branch = ref.removeprefix("refs/heads/")
            return None, (f"hoist deploys only main or master, not {branch!r}. "
                          f"Push it as main: git push hoist {branch}:main")
        if new == ZERO:
            return None, f"Deleting {ref} is not allowed: it is the deployed branch."
        deploy = new
    if deploy is None:
        return None, "Nothing to deploy in this push."
    return deploy, None


def _archive(commit: str) -> Iterator[bytes]:
    proc = subprocess.Popen(["git", "archive", "--format=tar", commit], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    while True:
        chunk = proc.stdout.read(262144)
        if not chunk:
            break
        yield chunk
    if proc.wait() != 0:
        raise RuntimeError("git archive failed")


class UnixConnection(http.client.HTTPConnection):
    """HTTP over the server's internal Unix socket (only hoist's own processes can reach it)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("hoist-internal", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def connect(internal_url: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to the server's internal API: `unix:/path`, or an http:// URL."""
    if internal_url.startswith("unix:"):
        return UnixConnection(internal_url[5:], timeout)
    url = urlsplit(internal_url)
    return http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=timeout)


def main() -> int:
    lines = sys.stdin.read().splitlines()
    commit, error = check_updates(lines)
    if error:
        print(f" !     {error}", flush=True)
        return 1
    assert commit is not None
    conn = connect(os.environ["HOIST_INTERNAL_URL"], 7200)
    conn.putrequest("POST", f"/internal/push/{os.environ['HOIST_APP']}")
    conn.putheader("X-Hoist-Push-Token", os.environ["HOIST_PUSH_TOKEN"])
    conn.putheader("X-Hoist-Commit", commit)
    conn.putheader("Content-Type", "application/x-tar")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for chunk in _archive(commit):
        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    conn.send(b"0\r\n\r\n")
    resp = conn.getresponse()
    ok = False
    while True:
        raw = resp.readline()
        if not raw:
            break
        text = raw.decode("utf-8", "replace").rstrip("\n")
        outcome = read_result_line(text)
        if outcome is not None:
            ok = outcome
            continue
        print(text, flush=True)
    if resp.status != 200:
        print(f" !     The hoist server refused the push (HTTP {resp.status}).", flush=True)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
