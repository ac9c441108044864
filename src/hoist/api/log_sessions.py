"""Log sessions: POST makes a short-lived secret URL (`logplex_url`) that
streams an app's log as Server-Sent Events, or as plain lines to clients
that do not ask for `text/event-stream`."""
from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import ApiError, invalid
from hoist.logs.line import LogLine, matches
from hoist.logs.sessions import InvalidLogSession
from hoist.state import apps as apps_t
from hoist.state import users as users_t
from hoist.state.db import utcnow
from hoist.state.users import User

ACCESS_RECHECK = 1.0  # seconds between access checks of a live stream (and its keep-alive interval)


async def create(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    try:
        session = ctx.log_sessions.open(app.name, app.id, user.id, body)
    except InvalidLogSession as exc:
        raise invalid(str(exc), "log-session") from None
    host = request.headers.get("host") or f"localhost:{ctx.platform.settings.port}"
    created = utcnow()
    return JSONResponse({"id": session.id[:12],
                         "logplex_url": f"{request.url.scheme}://{host}/log-streams/{session.id}",
                         "created_at": created, "updated_at": created}, status_code=201)


async def stream(request: Request, ctx: Ctx, user: None) -> Response:
    session = ctx.log_sessions.get(request.path_params["secret"])
    if session is None:
        raise ApiError(401, "unauthorized", "This log stream URL is unknown or expired; ask for a new one "
                       "with `hoist logs`.")
    def allowed() -> bool:
        # Asked again while streaming: a collaborator removed mid-session stops receiving.
        a = apps_t.get_app(ctx.platform.db, session.app_id)
        u = users_t.get_user(ctx.platform.db, session.user_id)
        return a is not None and u is not None and ctx.platform.can_access(u, a)

    if not allowed():
        raise ApiError(404, "not_found", "That app no longer exists, or you no longer have access to it.", "app")
    sse = "text/event-stream" in request.headers.get("accept", "")
    logs = ctx.platform.logs

    def fmt(line: LogLine) -> str:
        text = line.render()
        if sse:  # one event per log line; a newline inside it continues the same event
            return "data: " + text.replace("\r", "").replace("\n", "\ndata: ") + "\n\n"
        return text + "\n"

    def wanted(line: LogLine) -> bool:
        return matches(line, source=session.source, dyno=session.dyno)

    async def body() -> AsyncIterator[str]:
        sub = logs.subscribe(session.app) if session.tail else None
        try:
            recent = [l for l in logs.recent(session.app, ctx.platform.settings.log_lines) if wanted(l)]
            for line in recent[-session.lines:] if session.lines else []:
                yield fmt(line)
            if sub is None:
                return
            if sse:
                yield ": connected\n\n"
            checked = time.monotonic()
            while True:
                item: LogLine | None
                try:
                    item = await asyncio.wait_for(sub.queue.get(), ACCESS_RECHECK)
                except asyncio.TimeoutError:
                    item = None
                if time.monotonic() - checked >= ACCESS_RECHECK or item is None:
                    if not allowed():
                        return
                    checked = time.monotonic()
                if item is None:
                    if sse:
                        yield ": keep-alive\n\n"
                    continue
                if wanted(item):
                    yield fmt(item)
        finally:
            if sub is not None:
                logs.unsubscribe(session.app, sub)

    media = "text/event-stream" if sse else "text/plain; charset=utf-8"
    return StreamingResponse(body(), media_type=media, headers={"Cache-Control": "no-cache",
                                                                "X-Accel-Buffering": "no"})


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/log-sessions", endpoint(ctx, create, writes=False), methods=["POST"]),  # reads
        Route("/log-streams/{secret}", endpoint(ctx, stream, auth=False), methods=["GET"]),
    ]
