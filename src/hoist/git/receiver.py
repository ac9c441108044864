"""Smart-HTTP git: `git http-backend` behind hoist's authentication.

The request body streams into the CGI's stdin and its output streams back,
so a push's build log reaches the pusher line by line. Each receive-pack
request gets a one-time push token that the pre-receive hook presents to
the server's internal push endpoint."""
from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from typing import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response

from hoist.asgi.client_ip import client_ip
from hoist.asgi.streaming import DuplexStreamingResponse
from hoist.git.cgi import cgi_environ, parse_cgi_headers
from hoist.state.users import User

_SERVICES = {"git-upload-pack", "git-receive-pack"}


@dataclass(frozen=True)
class PushGrant:
    app: str
    user: User


class PushTokens:
    """One-time tokens, valid while their receive-pack request runs."""

    def __init__(self) -> None:
        self._grants: dict[str, PushGrant] = {}

    def issue(self, app: str, user: User) -> str:
        token = secrets.token_urlsafe(32)
        self._grants[token] = PushGrant(app, user)
        return token

    def take(self, token: str, app: str) -> PushGrant | None:
        grant = self._grants.pop(token, None) if token else None
        if grant is None or grant.app != app:
            return None
        return grant

    def revoke(self, token: str) -> None:
        self._grants.pop(token, None)


def allowed_path(rest: str) -> bool:
    """Only the smart-HTTP endpoints: no dumb-HTTP file access into the repo."""
    return rest in ("info/refs", "git-upload-pack", "git-receive-pack")


async def serve_git(request: Request, app: str, rest: str, user: User, repo_parent: str,
                    tokens: PushTokens, internal_url: str, max_body: int = 1024 ** 3) -> Response:
    if not allowed_path(rest):
        return Response("Not found: hoist serves only smart-HTTP git (git push/clone).\n", 404)
    declared = request.headers.get("content-length", "")
    too_big = (f"The push is over this hoist's limit of {max_body // 1024 ** 2} MiB: keep large files out of "
               "the repository, or ask the admin to raise HOIST_MAX_PUSH_MB.\n")
    if declared.isdigit() and int(declared) > max_body:
        return Response(too_big, 413)
    service = request.query_params.get("service", "")
    if rest == "info/refs" and service not in _SERVICES:
        return Response("Use a git client newer than 1.6.6 (smart HTTP is required).\n", 403)
    is_push = rest == "git-receive-pack" or service == "git-receive-pack"
    headers = {k.lower(): v for k, v in request.headers.items()}
    env = cgi_environ(
        method=request.method, path_info=f"/repo.git/{rest}", query=request.url.query, headers=headers,
        remote_user=user.email, project_root=repo_parent,
        remote_addr=client_ip(request),
    )
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env["HOME"] = repo_parent
    token = ""
    if rest == "git-receive-pack":
        token = tokens.issue(app, user)
        env.update({"HOIST_PUSH_TOKEN": token, "HOIST_INTERNAL_URL": internal_url, "HOIST_APP": app})
    proc = await asyncio.create_subprocess_exec(
        "git", "http-backend", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin and proc.stdout and proc.stderr

    async def feed() -> None:
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > max_body:  # chunked uploads have no Content-Length: count as they stream
                    proc.kill()
                    break
                proc.stdin.write(chunk)  # type: ignore[union-attr]
                await proc.stdin.drain()  # type: ignore[union-attr]
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            try:
                proc.stdin.close()  # type: ignore[union-attr]
            except Exception:
                pass

    feeder = asyncio.create_task(feed())
    head = b""
    while b"\r\n\r\n" not in head and b"\n\n" not in head:
        chunk = await proc.stdout.read(65536)
        if not chunk:
            break
        head += chunk
    sep = b"\r\n\r\n" if b"\r\n\r\n" in head else b"\n\n"
    block, _, first = head.partition(sep)
    status, cgi_headers = parse_cgi_headers(block)

    async def body() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            while True:
                chunk = await proc.stdout.read(65536)  # type: ignore[union-attr]
                if not chunk:
                    break
                yield chunk
            await feeder
            await proc.wait()
        finally:
            tokens.revoke(token)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    response = DuplexStreamingResponse(body(), status_code=status)
    for name, value in cgi_headers:
        response.headers.append(name, value)
    if is_push:
        response.headers["Cache-Control"] = "no-cache"
    return response
