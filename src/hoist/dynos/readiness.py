"""When is a web dyno ready for traffic? When it answers HTTP on its port.

Accepting a TCP connection is not enough: gunicorn's master listens before
its workers import the app, so an app that fails to import would look
ready. Any HTTP status line counts (an app may answer / with a 404 or a
500 and still be up); a health check path from app.json must answer 2xx/3xx."""
from __future__ import annotations

import asyncio

PROBE_TIMEOUT = 5.0


def parse_status_line(line: bytes) -> int | None:
    """`HTTP/1.1 200 OK` -> 200; anything else -> None. Pure."""
    parts = line.split(None, 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit() and len(parts[1]) == 3:
        return int(parts[1])
    return None


async def http_status(port: int, path: str = "/", timeout: float = PROBE_TIMEOUT, *,
                      host: str = "127.0.0.1") -> int | None:
    """The status code the dyno answers `GET path` with, or None if it does not answer. `host`: where it
    listens (a swarm dyno: its task's node address)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: hoist-readiness\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        return parse_status_line(line)
    except (OSError, asyncio.TimeoutError):
        return None
    finally:
        writer.close()


async def is_ready(port: int, health_path: str | None = None, host: str = "127.0.0.1") -> bool:
    status = await http_status(port, health_path or "/", host=host)
    if status is None:
        return False
    return 200 <= status < 400 if health_path else True
