"""Heroku-style router log lines, one per app request (pure)."""
from __future__ import annotations

from hoist.contracts.routes import normalize_host


def _quote(value: str) -> str:
    if '"' not in value and "\\" not in value:
        return f'"{value}"'
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ms(value: float | None) -> str:
    return "" if value is None else f"{max(0, round(value * 1000))}ms"


def format_line(
    app: str, *, method: str, path: str, host: str, request_id: str, fwd: str,
    dyno: str, connect: float | None, service: float | None, status: int,
    nbytes: int, protocol: str = "http", code: str | None = None, desc: str | None = None,
) -> str:
    """One stdout line: APPNAME, a tab, then the router message (at=info or at=error)."""
    head = "at=info" if code is None else f"at=error code={code} desc={_quote(desc or '')}"
    return (
        f"{app}\t{head} method={method} path={_quote(path)} host={host} "
        f"request_id={request_id} fwd={_quote(fwd)} dyno={dyno} "
        f"connect={_ms(connect)} service={_ms(service)} status={status} "
        f"bytes={nbytes} protocol={protocol}\n"
    )


LogEntry = tuple[str, bytes, bytes, bytes, bytes, str, str, "float | None", "float | None", int,
                 int, str, "str | None", "str | None"]


def format_entry(e: LogEntry) -> str:
    """format_line for a tuple the proxy captured: (app, method, path, raw host,
    request id, fwd, dyno, connect, service, status, bytes, protocol, code, desc)."""
    return format_line(
        e[0], method=e[1].decode("latin-1"), path=e[2].decode("latin-1"),
        host=normalize_host(e[3]), request_id=e[4].decode("latin-1"), fwd=e[5], dyno=e[6],
        connect=e[7], service=e[8], status=e[9], nbytes=e[10], protocol=e[11], code=e[12],
        desc=e[13])


def parse_message(message: str) -> dict[str, str]:
    """Parse a router message back into key/values (for tests and log readers)."""
    out: dict[str, str] = {}
    i, n = 0, len(message)
    while i < n:
        while i < n and message[i] == " ":
            i += 1
        eq = message.find("=", i)
        if eq == -1:
            break
        key = message[i:eq]
        i = eq + 1
        if i < n and message[i] == '"':
            i += 1
            buf = []
            while i < n and message[i] != '"':
                if message[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(message[i])
                i += 1
            out[key] = "".join(buf)
            i += 1
        else:
            end = message.find(" ", i)
            end = n if end == -1 else end
            out[key] = message[i:end]
            i = end
    return out
