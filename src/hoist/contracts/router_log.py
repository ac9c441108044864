"""The router's log lines, one per app request, in Heroku's words (pure): the router writes
them to its stdout as `APP<TAB>message`, the server files each message in the app's log
(`heroku[router]: at=info ...`), and readers (the dashboard's metrics) parse them back.

    notes\tat=info method=GET path="/" host=notes.localhost request_id=abc fwd="127.0.0.1"
    dyno=web.1 connect=0ms service=12ms status=200 bytes=512 protocol=http
"""
from __future__ import annotations


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


def split_line(line: str) -> tuple[str, str] | None:
    """(app, message) from a line of the router's stdout; None for a line of another shape."""
    app, sep, message = line.partition("\t")
    return (app, message) if sep else None


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
