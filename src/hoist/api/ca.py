"""GET /hoist/ca.pem: the certificate of hoist's local CA (public information),
so clients can verify hoist's TLS endpoints (rendezvous, HTTPS) against it alone."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint
from hoist.api.errors import not_found
from hoist.tls.ca import LocalCA


def routes(ctx: Ctx) -> list[Route]:
    async def ca_pem(request: Request, c: Ctx, user: object) -> Response:
        path = LocalCA(c.platform.paths.tls).cert_path
        if not path.exists():
            raise not_found("certificate", "hoist has no local CA yet; it is created when `hoist server` starts.")
        return Response(path.read_bytes(), media_type="application/x-pem-file")
    return [Route("/hoist/ca.pem", endpoint(ctx, ca_pem, auth=False), methods=["GET"])]
