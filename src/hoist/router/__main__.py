"""Entry point: python -m hoist.router --listen 127.0.0.1:5000 --routes routes.json."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hoist.router.server import TlsOptions, serve
from hoist.contracts.routes import parse_addr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hoist.router",
                                 description="hoist's HTTP router (reverse proxy)")
    ap.add_argument("--listen", default="127.0.0.1:5000", help="host:port to listen on")
    ap.add_argument("--routes", required=True, type=Path, help="routes.json (reloaded on SIGHUP)")
    ap.add_argument("--header-timeout", type=float, default=10.0,
                    help="seconds a client may take to send request headers")
    ap.add_argument("--keepalive-timeout", type=float, default=75.0,
                    help="seconds an idle client keep-alive connection is kept")
    ap.add_argument("--body-timeout", type=float, default=55.0,
                    help="seconds a client may pause while sending a request body (H28)")
    ap.add_argument("--tls-listen", help="host:port for HTTPS (needs --ca-dir)")
    ap.add_argument("--ca-dir", type=Path, help="hoist's local CA (ca.pem, ca-key.pem); "
                    "signs certificates for routed hosts that have none installed")
    ap.add_argument("--cert-cache", type=Path, help="where issued local certificates are "
                    "kept (default CA_DIR/hosts)")
    ap.add_argument("--acme-dir", type=Path, help="ACME HTTP-01 challenge files "
                    "(served at /.well-known/acme-challenge/TOKEN)")
    args = ap.parse_args(argv)
    try:
        host, port = parse_addr(args.listen)
    except ValueError as exc:
        ap.error(f"--listen: {exc}")
    tls: TlsOptions | None = None
    if args.tls_listen:
        if args.ca_dir is None:
            ap.error("--tls-listen needs --ca-dir (hoist's local CA directory)")
        try:
            tls_host, tls_port = parse_addr(args.tls_listen)
        except ValueError as exc:
            ap.error(f"--tls-listen: {exc}")
        tls = TlsOptions(tls_host, tls_port, args.ca_dir, args.cert_cache or args.ca_dir / "hosts")
    try:
        import uvloop  # optional: about twice the throughput of the default loop
    except ImportError:
        uvloop = None  # type: ignore[assignment]
    coro = serve(host, port, args.routes, header_timeout=args.header_timeout,
                 keepalive_timeout=args.keepalive_timeout, body_timeout=args.body_timeout,
                 tls=tls, acme_dir=args.acme_dir)
    if uvloop is not None:
        return uvloop.run(coro)
    return asyncio.run(coro)


if __name__ == "__main__":
    sys.exit(main())
