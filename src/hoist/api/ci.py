"""/apps/{app}/ci and /apps/{app}/test-runs: Heroku CI's switch and its runs (hoist's own paths: Heroku
keeps test runs under pipelines)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid, not_found
from hoist.platform.ci import TestRuns
from hoist.state import test_runs as runs_t
from hoist.state.apps import App
from hoist.state.test_runs import TestRun
from hoist.state.users import User


def run_json(tests: TestRuns, app: App, run: TestRun, with_output: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": run.id, "number": run.number, "commit_sha": run.commit, "source": run.source, "status": run.status,
        "exit_code": run.exit_code, "message": run.message, "created_at": run.created_at,
        "finished_at": run.finished_at, "app": {"id": app.id, "name": app.name}}
    if with_output:
        data["output"] = tests.output(run)
    return data


def settings_json(ctx: Ctx, app: App) -> dict[str, Any]:
    tests = ctx.pushes.tests
    return {"enabled": tests.enabled(app), "time_limit": tests.time_limit(app),
            "app": {"id": app.id, "name": app.name}}


async def get_settings(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(settings_json(ctx, ctx.app(user, request.path_params["app"])))


async def set_settings(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    current = runs_t.get_settings(ctx.platform.db, app.id)
    if not isinstance(body, dict) or not isinstance(body.get("enabled", current.enabled), bool):
        raise invalid('Send {"enabled": true | false, "time_limit": SECONDS}.', "ci")
    limit = body.get("time_limit", current.time_limit)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 1 <= limit <= 86400):
        raise invalid("time_limit is seconds, from 1 to 86400 (or null for the server's default).", "ci")
    runs_t.set_settings(ctx.platform.db, app.id, body.get("enabled", current.enabled),
                        float(limit) if limit is not None else None)
    ctx.platform.audit(app, user, "ci.settings", f"enabled={body.get('enabled', current.enabled)} limit={limit}")
    return JSONResponse(settings_json(ctx, app))


async def list_runs(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    tests = ctx.pushes.tests
    return JSONResponse([run_json(tests, app, r) for r in runs_t.list_runs(ctx.platform.db, app.id)])


async def get_run(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    ref = request.path_params["run"]
    run = runs_t.last_run(ctx.platform.db, app.id) if ref == "last" else (
        runs_t.get_run(ctx.platform.db, app.id, int(ref)) if ref.isdigit() and len(ref) < 10 else None)
    if run is None:
        raise not_found("test-run", f"{app.name} has no test run {ref}; `hoist ci -a {app.name}` lists them.")
    return JSONResponse(run_json(ctx.pushes.tests, app, run, with_output=True))


async def rerun(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    run = ctx.pushes.tests.rerun(app, user)
    return JSONResponse(run_json(ctx.pushes.tests, app, run), status_code=201)


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/ci", endpoint(ctx, get_settings), methods=["GET"]),
        Route("/apps/{app}/ci", endpoint(ctx, set_settings), methods=["PATCH"]),
        Route("/apps/{app}/test-runs", endpoint(ctx, list_runs), methods=["GET"]),
        Route("/apps/{app}/test-runs", endpoint(ctx, rerun), methods=["POST"]),
        Route("/apps/{app}/test-runs/{run}", endpoint(ctx, get_run), methods=["GET"]),
    ]
