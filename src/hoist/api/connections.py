"""/apps/{app}/repo-connection (connect, look, disconnect) and /webhooks/repo/{app}, where GitHub and
GitLab deliver push events. The webhook is unauthenticated by token: its signature (or GitLab's token) is
its credential, checked before the payload is parsed; a body over the limit is refused before it is read."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid
from hoist.state.apps import App
from hoist.state.connections import Connection
from hoist.state.users import User


def masked(secret: str) -> str:
    return "****" + secret[-4:] if len(secret) > 12 else "****"


def webhook_url(ctx: Ctx, app: App) -> str:
    """Next to the app's git URL: the platform's own address."""
    return ctx.platform.git_url(app.name).rsplit("/", 1)[0] + f"/webhooks/repo/{app.name}"


def connection_json(ctx: Ctx, app: App, conn: Connection, secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "app": {"id": app.id, "name": app.name}, "repo_url": conn.url, "branch": conn.branch,
        "wait_for_ci": conn.wait_for_ci, "poll_interval": conn.poll_interval,
        "credential": {"kind": conn.credential_kind or None,
                       "value": masked(conn.credential) if conn.credential else None},
        "webhook_url": webhook_url(ctx, app), "last_seen_commit": conn.last_seen,
        "last_deployed_commit": conn.last_deployed, "last_status": conn.last_status or None,
        "last_error": conn.last_error or None, "checked_at": conn.checked_at, "created_at": conn.created_at,
        "deploys": [{"commit": c, "status": s, "message": m or None} for c, s, m in ctx.connections.deploys(app)],
    }
    if secret:  # only in the answer to the connect: shown once
        data["webhook_secret"] = conn.webhook_secret
    return data


async def connect(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    cred = body.get("credential") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("repo_url"), str) \
            or not isinstance(body.get("branch", "main"), str) or not isinstance(body.get("wait_for_ci", False), bool) \
            or not (cred is None or (isinstance(cred, dict) and isinstance(cred.get("kind"), str)
                                     and isinstance(cred.get("value"), str))) \
            or not (body.get("poll_interval") is None or isinstance(body["poll_interval"], (int, float))):
        raise invalid('Send {"repo_url": "https://...", "branch": "main", "wait_for_ci": false, '
                      '"credential": {"kind": "token" | "deploy-key", "value": "..."}, "poll_interval": 60}.',
                      "repo-connection")
    poll = body.get("poll_interval")
    conn = ctx.connections.connect(app, user, body["repo_url"], body.get("branch", "main"),
                                   body.get("wait_for_ci", False), cred["kind"] if cred else "",
                                   cred["value"] if cred else "", float(poll) if poll is not None else None)
    return JSONResponse(connection_json(ctx, app, conn, secret=True), status_code=201)


async def get_connection(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(connection_json(ctx, app, ctx.connections.get(app)))


async def disconnect(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    conn = ctx.connections.disconnect(app, user)
    return JSONResponse({"app": {"id": app.id, "name": app.name}, "repo_url": conn.url, "branch": conn.branch})


async def deliver(request: Request, ctx: Ctx, user: None) -> Response:
    limit = ctx.platform.settings.max_webhook_mb * 1024 * 1024
    too_big = JSONResponse({"id": "request_too_large", "message": f"The webhook payload is over "
                            f"{limit // 1024 ** 2} MiB: nothing deployed."}, status_code=413,
                           headers={"Connection": "close"})
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return too_big  # refused before a byte of it is read
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return too_big
    answer = ctx.connections.deliver(request.path_params["app"],
                                     {k.lower(): v for k, v in request.headers.items()}, body)
    data: dict[str, Any] = {"message": answer.message}
    if answer.commit:
        data["commit"] = answer.commit
    if answer.status >= 400:
        data["id"] = {400: "bad_request", 401: "unauthorized", 404: "not_found"}.get(answer.status, "error")
    return JSONResponse(data, status_code=answer.status)


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/repo-connection", endpoint(ctx, connect), methods=["POST", "PUT"]),
        Route("/apps/{app}/repo-connection", endpoint(ctx, get_connection), methods=["GET"]),
        Route("/apps/{app}/repo-connection", endpoint(ctx, disconnect), methods=["DELETE"]),
        Route("/webhooks/repo/{app}", endpoint(ctx, deliver, auth=False), methods=["POST"]),
    ]
