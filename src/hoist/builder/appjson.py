"""app.json while building: parsed by hoist.contracts.appjson (the one parser),
its errors reported as the build's, so a malformed file rejects the push."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hoist.builder.errors import BuildError
from hoist.contracts import appjson
from hoist.contracts.appjson import AppJson


def read_app_json(source: Path) -> AppJson | None:
    """The pushed tree's app.json, parsed; None when there is none."""
    path = source / "app.json"
    return parse(path.read_text(errors="replace")) if path.is_file() else None


def parse(text: str) -> AppJson:
    """Parse app.json; a malformed file raises BuildError naming the line or field and the fix."""
    try:
        return appjson.parse(text)
    except appjson.AppJsonError as exc:
        raise BuildError(str(exc)) from None


def parse_app_json(text: str) -> dict[str, Any]:
    """app.json normalised, as the build result carries it."""
    return parse(text).to_json()
