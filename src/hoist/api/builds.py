"""/apps/{app}/builds: list, info, the kept output of every build, and POST: a build from a source
tarball (`source_blob.url`), built exactly as a push is. Its `output_stream_url` streams the output
while the build runs, without a token (the signature is the key), as the heroku CLI reads it."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint, json_body, listing
from hoist.api.errors import invalid, not_found
from hoist.api.urls import base_url
from hoist.platform.sources import CHECKSUM_RE
from hoist.platform.tarball import SourceError
from hoist.state import apps as apps_t
from hoist.state import builds as builds_t
from hoist.state.apps import App
from hoist.state.builds import Build
from hoist.state.users import User

POLL = 0.1  # seconds between looks at a running build's log


async def list_builds(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    items = builds_t.list_builds(ctx.platform.db, app.id)
    base = base_url(request, ctx.platform.settings)
    return listing(request, items, ["created_at", "id"], lambda b, f: getattr(b, f),
                   lambda b: serialize.build(ctx.platform, app, b, base))


def _build(ctx: Ctx, request: Request, user: User) -> tuple[App, Build]:
    app = ctx.app(user, request.path_params["app"])
    b = builds_t.get_build(ctx.platform.db, app.id, request.path_params["build"])
    if b is None:
        raise not_found("build", f"Couldn't find build {request.path_params['build']}; run `hoist builds`.")
    return app, b


async def get_build(request: Request, ctx: Ctx, user: User) -> Response:
    app, b = _build(ctx, request, user)
    return JSONResponse(serialize.build(ctx.platform, app, b, base_url(request, ctx.platform.settings)))


async def build_output(request: Request, ctx: Ctx, user: User) -> Response:
    app, b = _build(ctx, request, user)
    path = ctx.platform.paths.build_log(app.name, b.id)
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return PlainTextResponse(text)


def source_blob(body: Any) -> tuple[Any, str | None, str | None]:
    """(url, checksum, version) of a request's `source_blob`, their shapes checked."""
    blob = body.get("source_blob") if isinstance(body, dict) else None
    if not isinstance(blob, dict):
        raise invalid('Send {"source_blob": {"url": GET_URL}}: POST /sources for a put_url and get_url, PUT the '
                      "tarball to put_url, then build from get_url.", "source_blob")
    checksum, version = blob.get("checksum"), blob.get("version")
    if checksum is not None and not (isinstance(checksum, str) and CHECKSUM_RE.match(checksum)):
        raise invalid("source_blob.checksum must be SHA256:<64 hex digits> (or left out).", "source_blob")
    if version is not None and not (isinstance(version, str) and len(version) <= 200):
        raise invalid("source_blob.version must be a string of up to 200 characters, e.g. a commit.", "source_blob")
    return blob.get("url"), checksum, version or None


async def create_build(request: Request, ctx: Ctx, user: User) -> Response:
    """Build the tarball at source_blob.url: the same receive -> build -> slug -> release as a push."""
    p = ctx.platform
    app = ctx.app(user, request.path_params["app"])
    url, checksum, version = source_blob(await json_body(request))
    try:
        blob = await p.sources.resolve(url)
        await p.sources.verify(blob, checksum)
    except SourceError as exc:
        raise invalid(str(exc), "source_blob") from None
    build, _ = ctx.pushes.start(app, user, version, p.sources.receiver(blob, checksum))
    return JSONResponse(serialize.build(p, app, build, base_url(request, p.settings)), status_code=201)


async def follow(path: Path, running: Callable[[], bool]) -> AsyncIterator[bytes]:
    """The file's bytes, then what is appended to it, until `running()` says no more will be."""
    f = None
    try:
        while True:
            still = running()  # asked before reading: whatever was written before it said no is read below
            if f is None and path.exists():
                f = path.open("rb")
            while f is not None and (chunk := f.read(65536)):
                yield chunk
            if not still:
                return
            await asyncio.sleep(POLL)
    finally:
        if f is not None:
            f.close()


async def stream_output(request: Request, ctx: Ctx, user: None) -> Response:
    """A build's output at its signed URL (`output_stream_url`), streamed while the build runs."""
    p = ctx.platform
    bid = request.path_params["build"]
    b = builds_t.find_build(p.db, bid)
    app = apps_t.get_app(p.db, b.app_id) if b else None
    if b is None or app is None or not p.signer.verify(request.path_params["sig"], "build-output", b.id):
        raise not_found("build", "No build output at this URL; run `hoist builds:output -a APP ID`.")
    path = p.paths.build_log(app.name, b.id)
    return StreamingResponse(follow(path, lambda: ctx.pushes.running(bid)), media_type="text/plain; charset=utf-8",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/builds", endpoint(ctx, list_builds), methods=["GET"]),
        Route("/apps/{app}/builds", endpoint(ctx, create_build), methods=["POST"]),
        Route("/apps/{app}/builds/{build}", endpoint(ctx, get_build), methods=["GET"]),
        Route("/apps/{app}/builds/{build}/output", endpoint(ctx, build_output), methods=["GET"]),
        Route("/hoist/build-output/{build}/{sig}", endpoint(ctx, stream_output, auth=False),  # type: ignore[arg-type]
              methods=["GET"]),
    ]
