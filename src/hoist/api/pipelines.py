"""Heroku's pipelines, pipeline-couplings, pipeline-promotions and /filters/apps (what the heroku CLI's
`pipelines:*` commands call), over platform/pipelines.py and platform/promote.py."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api import serialize
from hoist.api.context import Ctx, endpoint, json_body
from hoist.api.errors import invalid, not_found
from hoist.state import apps as apps_t
from hoist.state import pipelines as pipelines_t
from hoist.state.apps import App
from hoist.state.pipelines import Coupling, Pipeline, Promotion, Target
from hoist.state.users import User


def pipeline_json(p: Pipeline) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "created_at": p.created_at, "updated_at": p.updated_at,
            "owner": {"id": p.owner_id, "type": "user"}, "generation": {"name": "cedar"}}


def coupling_json(c: Coupling, app: App, p: Pipeline) -> dict[str, Any]:
    return {"id": c.id, "stage": c.stage, "created_at": c.created_at, "updated_at": c.updated_at,
            "app": {"id": app.id, "name": app.name}, "pipeline": {"id": p.id, "name": p.name}}


def promotion_json(ctx: Ctx, pr: Promotion) -> dict[str, Any]:
    source = apps_t.get_app(ctx.platform.db, pr.source_app_id)
    return {"id": pr.id, "status": pr.status, "created_at": pr.created_at, "updated_at": pr.updated_at,
            "pipeline": {"id": pr.pipeline_id},
            "source": {"app": {"id": pr.source_app_id, "name": source.name if source else None},
                       "release": {"id": pr.source_release_id}}}


def target_json(t: Target) -> dict[str, Any]:
    return {"id": t.id, "status": t.status, "error_message": t.error_message, "app": {"id": t.app_id},
            "release": {"id": t.release_id} if t.release_id else None, "pipeline_promotion": {"id": t.promotion_id}}


def _ref(value: Any, key: str = "id") -> str:
    """`"name"`, `{"id": ...}` or `{"name": ...}`: how Heroku's bodies name an app or a pipeline."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict):
        found = value.get(key) or value.get("name") or value.get("id")
        if isinstance(found, str) and found:
            return found
    raise invalid("Name the app and the pipeline: {\"app\": \"NAME\", \"pipeline\": \"ID\", \"stage\": \"staging\"}.")


async def create_pipeline(request: Request, ctx: Ctx, user: User) -> Response:
    body = await json_body(request)
    name = body.get("name") if isinstance(body, dict) else None
    return JSONResponse(pipeline_json(ctx.platform.pipelines.create(user, name)), status_code=201)


async def list_pipelines(request: Request, ctx: Ctx, user: User) -> Response:
    found = ctx.platform.pipelines.visible(user)
    name = request.query_params.get("eq[name]")
    if name is not None:
        found = [p for p in found if p.name == name]
    return JSONResponse([pipeline_json(p) for p in found])


async def get_pipeline(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(pipeline_json(ctx.platform.pipelines.find(user, request.path_params["pipeline"])))


async def delete_pipeline(request: Request, ctx: Ctx, user: User) -> Response:
    pipeline = ctx.platform.pipelines.find(user, request.path_params["pipeline"])
    ctx.platform.pipelines.destroy(user, pipeline)
    return JSONResponse(pipeline_json(pipeline))


async def pipeline_couplings(request: Request, ctx: Ctx, user: User) -> Response:
    pl = ctx.platform.pipelines
    pipeline = pl.find(user, request.path_params["pipeline"])
    return JSONResponse([coupling_json(c, app, pipeline) for c, app in pl.couplings(user, pipeline)])


def _pipeline_of(ctx: Ctx, c: Coupling) -> Pipeline:
    p = pipelines_t.get_pipeline(ctx.platform.db, c.pipeline_id)
    assert p is not None  # couplings go with their pipeline
    return p


async def create_coupling(request: Request, ctx: Ctx, user: User) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid("Send {\"app\": \"NAME\", \"pipeline\": \"ID\", \"stage\": \"staging\"}.")
    app = ctx.app(user, _ref(body.get("app")))
    pipeline = ctx.platform.pipelines.find(user, _ref(body.get("pipeline")))
    coupling = ctx.platform.pipelines.couple(user, pipeline, app, body.get("stage"))
    return JSONResponse(coupling_json(coupling, app, pipeline), status_code=201)


async def list_couplings(request: Request, ctx: Ctx, user: User) -> Response:
    pl = ctx.platform.pipelines
    return JSONResponse([coupling_json(c, app, p) for p in pl.visible(user) for c, app in pl.couplings(user, p)])


async def get_coupling(request: Request, ctx: Ctx, user: User) -> Response:
    c, app = ctx.platform.pipelines.find_coupling(user, request.path_params["coupling"])
    return JSONResponse(coupling_json(c, app, _pipeline_of(ctx, c)))


async def update_coupling(request: Request, ctx: Ctx, user: User) -> Response:
    c, app = ctx.platform.pipelines.find_coupling(user, request.path_params["coupling"])
    body = await json_body(request)
    stage = body.get("stage") if isinstance(body, dict) else None
    c = ctx.platform.pipelines.set_stage(user, c, app, stage)
    return JSONResponse(coupling_json(c, app, _pipeline_of(ctx, c)))


async def delete_coupling(request: Request, ctx: Ctx, user: User) -> Response:
    c, app = ctx.platform.pipelines.find_coupling(user, request.path_params["coupling"])
    ctx.platform.pipelines.uncouple(user, c, app)
    return JSONResponse(coupling_json(c, app, _pipeline_of(ctx, c)))


async def app_coupling(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    c = ctx.platform.pipelines.coupling_of(user, app)
    return JSONResponse(coupling_json(c, app, _pipeline_of(ctx, c)))


async def filter_apps(request: Request, ctx: Ctx, user: User) -> Response:
    body = await json_body(request)
    ids = body.get("in", {}).get("id") if isinstance(body, dict) and isinstance(body.get("in"), dict) else None
    if not isinstance(ids, list):
        raise invalid("Send {\"in\": {\"id\": [APP_ID, ...]}}.")
    apps = [a for a in (apps_t.get_app(ctx.platform.db, str(i)) for i in ids[:1000])
            if a is not None and ctx.platform.can_access(user, a)]
    return JSONResponse([serialize.app(ctx.platform, a) for a in apps])


async def create_promotion(request: Request, ctx: Ctx, user: User) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("source"), dict) \
            or not isinstance(body.get("targets"), list):
        raise invalid("Send {\"pipeline\": {\"id\": ID}, \"source\": {\"app\": {\"id\": ID}}, "
                      "\"targets\": [{\"app\": {\"id\": ID}}]}.", "pipeline_promotion")
    pipeline = ctx.platform.pipelines.find(user, _ref(body.get("pipeline")))
    source = ctx.app(user, _ref(body["source"].get("app")))
    targets = [ctx.app(user, _ref(t.get("app") if isinstance(t, dict) else None)) for t in body["targets"][:50]]
    promotion = ctx.platform.promotions.start(user, pipeline, source, targets)
    return JSONResponse(promotion_json(ctx, promotion), status_code=201)


def _promotion(ctx: Ctx, user: User, promotion_id: str) -> Promotion:
    pr = pipelines_t.get_promotion(ctx.platform.db, promotion_id)
    source = apps_t.get_app(ctx.platform.db, pr.source_app_id) if pr else None
    if pr is None or source is None or not ctx.platform.can_access(user, source):
        raise not_found("pipeline_promotion", f"Couldn't find that promotion: {promotion_id!r}.")
    return pr


async def get_promotion(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse(promotion_json(ctx, _promotion(ctx, user, request.path_params["promotion"])))


async def promotion_targets(request: Request, ctx: Ctx, user: User) -> Response:
    pr = _promotion(ctx, user, request.path_params["promotion"])
    return JSONResponse([target_json(t) for t in pipelines_t.targets(ctx.platform.db, pr.id)])


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/pipelines", endpoint(ctx, list_pipelines), methods=["GET"]),
        Route("/pipelines", endpoint(ctx, create_pipeline), methods=["POST"]),
        Route("/pipelines/{pipeline}", endpoint(ctx, get_pipeline), methods=["GET"]),
        Route("/pipelines/{pipeline}", endpoint(ctx, delete_pipeline), methods=["DELETE"]),
        Route("/pipelines/{pipeline}/pipeline-couplings", endpoint(ctx, pipeline_couplings), methods=["GET"]),
        Route("/pipeline-couplings", endpoint(ctx, list_couplings), methods=["GET"]),
        Route("/pipeline-couplings", endpoint(ctx, create_coupling), methods=["POST"]),
        Route("/pipeline-couplings/{coupling}", endpoint(ctx, get_coupling), methods=["GET"]),
        Route("/pipeline-couplings/{coupling}", endpoint(ctx, update_coupling), methods=["PATCH"]),
        Route("/pipeline-couplings/{coupling}", endpoint(ctx, delete_coupling), methods=["DELETE"]),
        Route("/apps/{app}/pipeline-couplings", endpoint(ctx, app_coupling), methods=["GET"]),
        Route("/filters/apps", endpoint(ctx, filter_apps), methods=["POST"]),
        Route("/pipeline-promotions", endpoint(ctx, create_promotion), methods=["POST"]),
        Route("/pipeline-promotions/{promotion}", endpoint(ctx, get_promotion), methods=["GET"]),
        Route("/pipeline-promotions/{promotion}/promotion-targets", endpoint(ctx, promotion_targets),
              methods=["GET"]),
    ]
