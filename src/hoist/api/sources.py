"""POST /sources: a put_url to upload a source tarball to and a get_url to build from; and those URLs.

The put_url and get_url need no token: their signature is the credential, and it expires
(HOIST_SOURCE_URL_TTL), as Heroku's S3 URLs do."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint
from hoist.api.errors import ApiError, not_found
from hoist.api.urls import base_url
from hoist.platform.sources import ID_RE
from hoist.platform.tarball import SourceError
from hoist.state.users import User


async def create_source(request: Request, ctx: Ctx, user: User) -> Response:
    urls = ctx.platform.sources.create()
    base = base_url(request, ctx.platform.settings)
    return JSONResponse({"source_blob": {"put_url": base + urls.put_path, "get_url": base + urls.get_path}},
                        status_code=201)


def _checked(request: Request, ctx: Ctx, kind: str) -> str:
    sid = request.path_params["source"]
    q = request.query_params
    why = "This URL is not a source URL of this hoist." if not ID_RE.match(sid) else \
        ctx.platform.sources.refusal(kind, sid, q.get("expires", ""), q.get("signature", ""))
    if why is None and q.get("kind") != kind:
        why = f"This is the source's {q.get('kind')}_url; {'PUT to put_url' if kind == 'put' else 'GET get_url'}."
    if why:
        raise ApiError(403, "forbidden", why, "source")
    return sid


async def put_source(request: Request, ctx: Ctx, user: None) -> Response:
    """The upload: the tarball's bytes as the request body (any content type)."""
    sources = ctx.platform.sources
    sid = _checked(request, ctx, "put")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > sources.max_bytes:
        raise ApiError(413, "request_too_large", sources.too_big(), "source")
    try:
        size, checksum = await sources.receive(sid, request.stream())
    except SourceError as exc:
        raise ApiError(413, "request_too_large", str(exc), "source") from None
    return JSONResponse({"id": sid, "size": size, "checksum": checksum})


async def get_source(request: Request, ctx: Ctx, user: None) -> Response:
    sid = _checked(request, ctx, "get")
    path = ctx.platform.sources.stored(sid)
    if not path.is_file():
        raise not_found("source", "Nothing was uploaded to this source yet: PUT the tarball to its put_url first.")
    return FileResponse(path, media_type="application/octet-stream")


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/sources", endpoint(ctx, create_source), methods=["POST"]),
        Route("/apps/{app}/sources", endpoint(ctx, create_source), methods=["POST"]),  # the older, per-app form
        Route("/hoist/sources/{source}", endpoint(ctx, put_source, auth=False), methods=["PUT"]),  # type: ignore[arg-type]
        Route("/hoist/sources/{source}", endpoint(ctx, get_source, auth=False), methods=["GET"]),  # type: ignore[arg-type]
    ]
