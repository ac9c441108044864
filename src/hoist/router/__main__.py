"""Entry point: python -m hoist.router --listen 127.0.0.1:5000 --routes routes.json."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hoist.router.server import serve
from hoist.router.table import parse_addr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hoist.router",
                                 description="hoist's HTTP router (reverse proxy)")
    ap.add_argument("--listen", default="127.0.0.1:5000", help="host:port to listen on")
    ap.add_argument("--routes", required=True, type=Path, help="routes.json (reloaded on SIGHUP)")
    ap.add_argument("--header-timeout", type=float, default=10.0,
                    help="seconds a client may take to send request headers")
    ap.add_argument("--keepalive-timeout", type=float, default=75.0,
                    help="seconds an idle client keep-alive connection is kept")
    args = ap.parse_args(argv)
    try:
        host, port = parse_addr(args.listen)
    except ValueError as exc:
        ap.error(f"--listen: {exc}")
    try:
        import uvloop  # optional: about twice the throughput of the default loop
    except ImportError:
        uvloop = None  # type: ignore[assignment]
    coro = serve(host, port, args.routes, header_timeout=args.header_timeout,
                 keepalive_timeout=args.keepalive_timeout)
    if uvloop is not None:
        return uvloop.run(coro)
    return asyncio.run(coro)


if __name__ == "__main__":
    sys.exit(main())
