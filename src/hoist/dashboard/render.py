"""Jinja2 templates (autoescaped) and the locally served static files."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hoist.dashboard.security import HEADERS

HERE = Path(__file__).resolve().parent
STATIC = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}

_env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True, undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)


def html(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a template into a response with the dashboard's security headers."""
    context.setdefault("user", None)
    context.setdefault("csrf", "")
    context.setdefault("flash", [])
    body = _env.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=HEADERS)


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    media = STATIC.get(name)
    if media is None:
        return html("error.html", 404, title="Not found", message="There is no such dashboard file.")
    headers = dict(HEADERS) | {"Cache-Control": "no-cache"}
    return Response((HERE / "static" / name).read_bytes(), media_type=media, headers=headers)
