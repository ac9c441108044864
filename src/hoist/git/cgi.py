"""Pure helpers for running `git http-backend` as a CGI program."""
from __future__ import annotations

from typing import Mapping


def cgi_environ(
    *, method: str, path_info: str, query: str, headers: Mapping[str, str], remote_user: str, project_root: str,
    remote_addr: str,
) -> dict[str, str]:
    """The CGI environment for one request (the caller adds PATH and hoist's own variables)."""
    env = {
        "GIT_PROJECT_ROOT": project_root,
        "GIT_HTTP_EXPORT_ALL": "1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "REMOTE_USER": remote_user,
        "REMOTE_ADDR": remote_addr,
        "CONTENT_TYPE": headers.get("content-type", ""),
    }
    if "content-length" in headers:
        env["CONTENT_LENGTH"] = headers["content-length"]
    if "content-encoding" in headers:
        env["HTTP_CONTENT_ENCODING"] = headers["content-encoding"]
    if "git-protocol" in headers:
        env["GIT_PROTOCOL"] = headers["git-protocol"]
    return env


def parse_cgi_headers(block: bytes) -> tuple[int, list[tuple[str, str]]]:
    """Parse the CGI response header block into (status, headers)."""
    status = 200
    out: list[tuple[str, str]] = []
    for raw in block.decode("latin-1").split("\n"):
        line = raw.rstrip("\r")
        if not line:
            continue
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if name.lower() == "status":
            status = int(value.split()[0])
        else:
            out.append((name, value))
    return status, out
