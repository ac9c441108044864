"""/apps/{app}/scheduler/jobs: Heroku Scheduler's jobs (hoist's own endpoints: Heroku's scheduler has no
Platform API). Times are UTC."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.addons import manager
from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid
from hoist.platform.schedules import Schedules, describe
from hoist.state.apps import App
from hoist.state.scheduler_jobs import Job
from hoist.state.users import User


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_json(app: App, job: Job) -> dict[str, Any]:
    return {"id": job.id, "command": job.command, "every": job.every, "at": job.at or None,
            "schedule": describe(job), "next_run_at": iso(job.next_run),
            "last_run_at": iso(job.last_run), "last_dyno": job.last_dyno, "last_status": job.last_status,
            "created_at": job.created_at, "app": {"id": app.id, "name": app.name}}


def schedules(ctx: Ctx) -> Schedules:
    return manager(ctx).schedules


async def list_jobs(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse([job_json(app, j) for j in schedules(ctx).list(app)])


async def create_job(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("command", ""), str) \
            or not isinstance(body.get("every", ""), str) or not isinstance(body.get("at") or "", str):
        raise invalid('Send {"command": "python task.py", "every": "10m" | "1h" | "1d", "at": "HH:MM" | ":MM"}.',
                      "scheduler_job")
    job = schedules(ctx).add(app, user, body.get("command", ""), body.get("every", ""), body.get("at"))
    return JSONResponse(job_json(app, job), status_code=201)


async def get_job(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(job_json(app, schedules(ctx).find(app, request.path_params["job"])))


async def delete_job(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(job_json(app, schedules(ctx).remove(app, user, request.path_params["job"])))


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/scheduler/jobs", endpoint(ctx, list_jobs), methods=["GET"]),
        Route("/apps/{app}/scheduler/jobs", endpoint(ctx, create_job), methods=["POST"]),
        Route("/apps/{app}/scheduler/jobs/{job}", endpoint(ctx, get_job), methods=["GET"]),
        Route("/apps/{app}/scheduler/jobs/{job}", endpoint(ctx, delete_job), methods=["DELETE"]),
    ]
