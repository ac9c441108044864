"""/apps/{app}/domains, /apps/{app}/sni-endpoints, /apps/{app}/acm and /hoist/tls."""
from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint, json_body, listing
from hoist.api.errors import invalid
from hoist.platform.control import Platform
from hoist.platform.domains import CUSTOM_KIND, DEFAULT_KIND, DomainView
from hoist.state import domains as domains_t
from hoist.state.apps import App
from hoist.state.users import User
from hoist.tls.ca import LocalCA
from hoist.tls.certs import CertInfo


def _iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def acm_status(p: Platform, view: DomainView, acm: bool) -> str | None:
    if view.kind == DEFAULT_KIND or not acm:
        return None
    found = p.certs.covering(view.app, view.hostname)
    if found is not None and found[0].source == "acm":
        return "cert issued"
    return "failing" if view.hostname in p.acme.failures else "pending"


def domain_json(p: Platform, view: DomainView, acm: bool | None = None) -> dict[str, Any]:
    custom = view.kind == CUSTOM_KIND
    found = p.certs.covering(view.app, view.hostname) if custom else None
    acm = p.domains.acm_enabled(view.app) if acm is None else acm
    return {
        "id": view.id, "hostname": view.hostname, "kind": view.kind,
        "cname": p.domains.default_host(view.app) if custom else None,
        "status": "succeeded", "acm_status": acm_status(p, view, acm),
        "acm_status_reason": p.acme.failures.get(view.hostname) if custom and acm else None,
        "sni_endpoint": {"id": found[0].id, "name": found[0].name} if found else None,
        "app": {"id": view.app.id, "name": view.app.name},
        "created_at": view.created_at, "updated_at": view.updated_at,
    }


def endpoint_json(app: App, ep: domains_t.SniEndpoint, info: CertInfo, hosts: list[str]) -> dict[str, Any]:
    return {
        "id": ep.id, "name": ep.name, "display_name": None,
        "app": {"id": app.id, "name": app.name},
        "domains": [h for h in hosts if info.covers(h)],
        "created_at": ep.created_at, "updated_at": ep.updated_at,
        "ssl_cert": {"cert_domains": list(info.names), "starts_at": _iso(info.not_before),
                     "expires_at": _iso(info.not_after), "issuer": info.issuer, "subject": info.subject,
                     "sha256_fingerprint": info.fingerprint, "acm": ep.source == "acm"},
    }


async def list_domains(request: Request, ctx: Ctx, user: User) -> Response:
    p = ctx.platform
    app = ctx.app(user, request.path_params["app"])
    acm = p.domains.acm_enabled(app)
    return listing(request, p.domains.list(app), ["hostname", "id"], lambda d, f: getattr(d, f),
                   lambda d: domain_json(p, d, acm))


async def get_domain(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    return JSONResponse(domain_json(ctx.platform, ctx.platform.domains.find(app, request.path_params["domain"])))


async def create_domain(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict) or "hostname" not in body:
        raise invalid('Send {"hostname": "www.example.com"}.', "domain")
    view = ctx.platform.domains.add(app, body["hostname"])
    return JSONResponse(domain_json(ctx.platform, view), status_code=201)


async def delete_domain(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    view = ctx.platform.domains.remove(app, request.path_params["domain"])
    return JSONResponse(domain_json(ctx.platform, view, False))


async def list_endpoints(request: Request, ctx: Ctx, user: User) -> Response:
    p = ctx.platform
    app = ctx.app(user, request.path_params["app"])
    hosts = domains_t.hostnames_of(p.db, app.name)
    return JSONResponse([endpoint_json(app, ep, info, hosts) for ep, info in p.certs.list(app)])


async def create_endpoint(request: Request, ctx: Ctx, user: User) -> Response:
    p = ctx.platform
    app = ctx.app(user, request.path_params["app"])
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid('Send {"certificate_chain": PEM, "private_key": PEM}.', "sni_endpoint")
    ep, info = p.certs.install(app, body.get("certificate_chain"), body.get("private_key"),
                               domain=body.get("domain"))
    return JSONResponse(endpoint_json(app, ep, info, domains_t.hostnames_of(p.db, app.name)), status_code=201)


async def delete_endpoint(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    ep = ctx.platform.certs.remove(app, request.path_params["endpoint"])
    return JSONResponse({"id": ep.id, "name": ep.name, "app": {"id": app.id, "name": app.name}})


async def acm_on(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    ctx.platform.domains.set_acm(app, True)
    return JSONResponse({"id": app.id, "name": app.name, "acm": True})


async def acm_off(request: Request, ctx: Ctx, user: User) -> Response:
    app = ctx.app(user, request.path_params["app"])
    ctx.platform.domains.set_acm(app, False)
    return JSONResponse({"id": app.id, "name": app.name, "acm": False})


async def tls_info(request: Request, ctx: Ctx, user: User) -> Response:
    """Where the local CA is and its certificate, so `hoist certs` can say how to trust it."""
    p = ctx.platform
    ca = LocalCA(p.paths.tls)
    pem = ca.cert_path.read_text() if ca.cert_path.exists() else None
    return JSONResponse({"ca_path": str(ca.cert_path), "ca_pem": pem, "tls_port": p.settings.tls_port,
                         "port": p.settings.port})


def routes(ctx: Ctx) -> list[Route]:
    return [
        Route("/apps/{app}/domains", endpoint(ctx, list_domains), methods=["GET"]),
        Route("/apps/{app}/domains", endpoint(ctx, create_domain), methods=["POST"]),
        Route("/apps/{app}/domains/{domain}", endpoint(ctx, get_domain), methods=["GET"]),
        Route("/apps/{app}/domains/{domain}", endpoint(ctx, delete_domain), methods=["DELETE"]),
        Route("/apps/{app}/sni-endpoints", endpoint(ctx, list_endpoints), methods=["GET"]),
        Route("/apps/{app}/sni-endpoints", endpoint(ctx, create_endpoint), methods=["POST"]),
        Route("/apps/{app}/sni-endpoints/{endpoint}", endpoint(ctx, delete_endpoint), methods=["DELETE"]),
        Route("/apps/{app}/acm", endpoint(ctx, acm_on), methods=["POST"]),
        Route("/apps/{app}/acm", endpoint(ctx, acm_off), methods=["DELETE"]),
        Route("/hoist/tls", endpoint(ctx, tls_info), methods=["GET"]),
    ]
