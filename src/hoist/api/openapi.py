"""A hand-written OpenAPI 3 description of hoist's main endpoints, served at
/openapi.json (used by the schemathesis fuzz test and by API clients)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx

_ERROR = {"type": "object", "required": ["id", "message"],
          "properties": {"id": {"type": "string"}, "message": {"type": "string"}}}
_ANY_OBJECT: dict[str, Any] = {"type": "object"}
_STATUSES = ("200", "201", "206", "400", "401", "403", "404", "405", "409", "413", "422", "429")


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _op(summary: str, params: tuple[str, ...] = (), body: dict[str, Any] | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in _STATUSES:
        schema = _ERROR if status[0] == "4" else {}
        responses[status] = {"description": status, "content": {"application/json": {"schema": schema}}}
    op: dict[str, Any] = {"summary": summary, "parameters": [_param(p) for p in params], "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return op


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


_STR = {"type": "string"}
_INT = {"type": "integer"}
_APP = ("app",)
_SOURCE_BLOB = _obj(url=_STR, checksum=_STR, version=_STR)

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "hoist Platform API", "version": "3",
             "description": "A subset of the Heroku Platform API v3, as hoist serves it."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/account": {"get": _op("The current user")},
        "/apps": {"get": _op("List apps"), "post": _op("Create an app", body=_obj(name=_STR))},
        "/apps/{app}": {"get": _op("Info", _APP),
                        "patch": _op("Update: maintenance, rename, transfer", _APP,
                                     _obj(maintenance={"type": "boolean"}, name=_STR, owner=_STR,
                                          remove_previous_owner={"type": "boolean"})),
                        "delete": _op("Destroy", _APP)},
        "/apps/{app}/config-vars": {"get": _op("Config vars", _APP),
                                    "patch": _op("Set config vars", _APP,
                                                 {"type": "object", "additionalProperties": {"type": "string",
                                                                                             "nullable": True}})},
        "/apps/{app}/releases": {"get": _op("Releases", _APP), "post": _op("Rollback", _APP, _obj(release=_STR))},
        "/apps/{app}/releases/{release}": {"get": _op("A release", ("app", "release"))},
        "/apps/{app}/formation": {"get": _op("Formation", _APP),
                                  "patch": _op("Scale", _APP, _obj(updates={"type": "array", "items": _obj(
                                      type=_STR, quantity=_INT)}))},
        "/apps/{app}/formation/{type}": {"get": _op("One process type", ("app", "type")),
                                         "patch": _op("Scale one", ("app", "type"), _obj(quantity=_INT))},
        "/apps/{app}/dynos": {"get": _op("Dynos", _APP)},
        "/apps/{app}/dynos/{dyno}": {"get": _op("A dyno", ("app", "dyno"))},
        "/apps/{app}/builds": {"get": _op("Builds", _APP),
                               "post": _op("Build a source tarball", _APP, _obj(source_blob=_SOURCE_BLOB))},
        "/sources": {"post": _op("A put_url and get_url for a source tarball")},
        "/app-setups": {"post": _op("Create, build and release an app from a tarball", body=_obj(
            app=_obj(name=_STR, region=_STR), source_blob=_SOURCE_BLOB,
            overrides=_obj(env={"type": "object", "additionalProperties": _STR})))},
        "/app-setups/{setup}": {"get": _op("An app setup", ("setup",))},
        "/account/app-transfers": {"get": _op("App transfers (none wait: they complete at once)"),
                                   "post": _op("Transfer an app", body=_obj(app=_STR, recipient=_STR,
                                                                           remove_previous_owner={"type": "boolean"}))},
        "/apps/{app}/builds/{build}": {"get": _op("A build", ("app", "build"))},
        "/apps/{app}/log-sessions": {"post": _op("A log session", _APP, _obj(lines=_INT, tail={"type": "boolean"},
                                                                             dyno=_STR, source=_STR))},
        "/apps/{app}/collaborators": {"get": _op("Collaborators", _APP),
                                      "post": _op("Add a collaborator", _APP, _obj(user=_STR))},
        "/apps/{app}/collaborators/{email}": {"delete": _op("Remove a collaborator", ("app", "email"))},
        "/apps/{app}/activity": {"get": _op("Activity", _APP)},
        "/apps/{app}/log-drains": {"get": _op("Log drains", _APP), "post": _op("Add a log drain", _APP, _obj(url=_STR))},
        "/apps/{app}/log-drains/{drain}": {"get": _op("A log drain", ("app", "drain")),
                                           "delete": _op("Remove a log drain", ("app", "drain"))},
        "/apps/{app}/pipeline-couplings": {"get": _op("The app's pipeline coupling", _APP)},
        "/pipelines": {"get": _op("Pipelines"), "post": _op("Create a pipeline", body=_obj(name=_STR))},
        "/pipelines/{pipeline}": {"get": _op("A pipeline", ("pipeline",)), "delete": _op("Destroy", ("pipeline",))},
        "/pipeline-couplings": {"get": _op("Couplings"),
                                "post": _op("Add an app to a pipeline", body=_obj(app=_STR, pipeline=_STR, stage=_STR))},
        "/pipeline-promotions": {"post": _op("Promote", body=_obj(pipeline=_obj(id=_STR), source=_obj(
            app=_obj(id=_STR)), targets={"type": "array", "items": _obj(app=_obj(id=_STR))}))},
        "/pipeline-promotions/{promotion}/promotion-targets": {"get": _op("Promotion targets", ("promotion",))},
        "/oauth/authorizations": {"get": _op("API tokens"),
                                  "post": _op("Create an API token", body=_obj(description=_STR,
                                                                               expires_in=_INT))},
        "/oauth/authorizations/{id}": {"get": _op("An API token", ("id",)),
                                       "delete": _op("Revoke an API token", ("id",))},
        "/users": {"get": _op("Users (admin)"), "post": _op("Add a user (admin)", body=_obj(email=_STR,
                                                                                              password=_STR))},
        "/users/{user}": {"delete": _op("Remove a user (admin)", ("user",))},
        "/users/{user}/password-reset": {"post": _op("Reset a user's password to a generated one (admin)",
                                                     ("user",))},
        "/nodes": {"get": _op("The machines dynos run on (admin)")},
        "/nodes/{node}/actions/drain": {"post": _op("Move a node's dynos elsewhere, then drain it (admin)", ("node",))},
        "/nodes/{node}/actions/activate": {"post": _op("Let a node take dynos again (admin)", ("node",))},
    },
}


async def openapi(request: Request) -> Response:
    return JSONResponse(SPEC)


def routes(ctx: Ctx) -> list[Route]:
    return [Route("/openapi.json", openapi, methods=["GET"])]
