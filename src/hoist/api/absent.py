"""Resources hoist does not have (teams, spaces, features, ...),
answered the way Heroku answers an account without them: empty lists or a
404 `not_found`. Registered last, so a real implementation of any of these
paths (another module) takes precedence."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.api.context import Ctx, endpoint
from hoist.api.errors import not_found
from hoist.state.users import User

# Per-app lists that are simply empty for a hoist app.
_EMPTY_APP_LISTS = ("addons", "addon-attachments", "collaborators", "features", "sni-endpoints", "domains",
                    "webhooks", "review-apps", "ssl-endpoints", "permissions")
# Account-wide lists that are empty.
_EMPTY_LISTS = ("/account/features", "/addon-attachments", "/teams", "/enterprise-accounts", "/spaces", "/addons",
                "/account/keys", "/oauth/authorizations", "/account/invoices", "/team-invitations",
                "/account/sms-number")


async def _empty_app_list(request: Request, ctx: Ctx, user: User) -> Response:
    ctx.app(user, request.path_params["app"])  # unknown apps still 404
    return JSONResponse([])


async def _empty_list(request: Request, ctx: Ctx, user: User) -> Response:
    return JSONResponse([])


def _missing(resource: str, what: str) -> object:
    async def handler(request: Request, ctx: Ctx, user: User) -> Response:
        if "app" in request.path_params:
            ctx.app(user, request.path_params["app"])
        raise not_found(resource, f"Couldn't find that {what}: hoist has no {what}s.")
    return handler


def routes(ctx: Ctx) -> list[Route]:
    out = [Route(f"/apps/{{app}}/{name}", endpoint(ctx, _empty_app_list), methods=["GET"])
           for name in _EMPTY_APP_LISTS]
    out += [Route(path, endpoint(ctx, _empty_list), methods=["GET"]) for path in _EMPTY_LISTS]
    out += [
        Route("/apps/{app}/features/{feature}", endpoint(ctx, _missing("app_feature", "feature")), methods=["GET"]),  # type: ignore[arg-type]
        Route("/account/features/{feature}", endpoint(ctx, _missing("account_feature", "feature")), methods=["GET"]),  # type: ignore[arg-type]
        Route("/teams/{team}", endpoint(ctx, _missing("team", "team")), methods=["GET"]),  # type: ignore[arg-type]
        Route("/teams/{team}/{rest:path}", endpoint(ctx, _missing("team", "team")), methods=["GET"]),  # type: ignore[arg-type]
        Route("/spaces/{space}", endpoint(ctx, _missing("space", "space")), methods=["GET"]),  # type: ignore[arg-type]
    ]
    return out
