"""app.json parsing (pure): formation, env, addons, scripts, health checks."""
from __future__ import annotations

import json
from typing import Any

from hoist import names
from hoist.builder.errors import BuildError


def parse_app_json(text: str) -> dict[str, Any]:
    """Parse and normalise app.json; a malformed file raises BuildError naming the line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildError(
            f"app.json is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}; "
            "fix that line (or delete app.json) and push again"
        ) from None
    if not isinstance(data, dict):
        raise BuildError("app.json must contain a JSON object like {\"formation\": {...}}; fix it and push again")
    result: dict[str, Any] = {
        "formation": _formation(data.get("formation")),
        "env": _env(data.get("env")),
        "addons": _addons(data.get("addons")),
        "scripts": _scripts(data.get("scripts")),
        "healthchecks": _healthchecks(data),
    }
    for key in ("name", "description", "stack"):
        if isinstance(data.get(key), str):
            result[key] = data[key]
    return result


def _fail(what: str, fix: str) -> BuildError:
    return BuildError(f"app.json: {what}; {fix}")


def _formation(value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    items: list[tuple[str, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):  # the older list form: [{"process": "web", "quantity": 1}]
        items = [(str(v.get("process") or v.get("type")), v) for v in value if isinstance(v, dict)]
    else:
        raise _fail("`formation` must be an object", 'write it as {"web": {"quantity": 1}}')
    out: dict[str, dict[str, Any]] = {}
    for kind, spec in items:
        try:
            names.process_type(kind)
        except names.InvalidName as exc:
            raise _fail(f"formation: {exc}", "rename the process type") from None
        spec = spec if isinstance(spec, dict) else {}
        quantity = spec.get("quantity", 1)
        if isinstance(quantity, str) and quantity.isdigit():
            quantity = int(quantity)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise _fail(f"formation.{kind}.quantity is {quantity!r}", "use a whole number such as 1")
        entry: dict[str, Any] = {"quantity": quantity}
        if isinstance(spec.get("size"), str):
            entry["size"] = spec["size"]
        out[kind] = entry
    return out


def _env(value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("`env` must be an object", 'write it as {"SECRET_KEY": {"generator": "secret"}}')
    out: dict[str, dict[str, Any]] = {}
    for key, spec in value.items():
        try:
            names.config_key(key)
        except names.InvalidName as exc:
            raise _fail(f"env: {exc}", "rename the variable") from None
        if isinstance(spec, (str, int, float, bool)):  # shorthand: "KEY": "value"
            spec = {"value": str(spec)}
        if not isinstance(spec, dict):
            raise _fail(f"env.{key} must be a string or an object", 'use {"value": "...", "required": true}')
        entry: dict[str, Any] = {"required": bool(spec.get("required", "value" not in spec and "generator" not in spec))}
        for field in ("value", "description", "generator"):
            if field in spec and spec[field] is not None:
                entry[field] = str(spec[field])
        out[key] = entry
    return out


def _addons(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("`addons` must be a list", 'write it as ["heroku-postgresql"]')
    out: list[dict[str, Any]] = []
    for item in value:
        if isinstance(item, str):
            out.append({"plan": item})
        elif isinstance(item, dict) and isinstance(item.get("plan"), str):
            entry = {"plan": item["plan"]}
            for field in ("as", "options"):
                if field in item:
                    entry[field] = item[field]
            out.append(entry)
        else:
            raise _fail(f"addon entry {item!r} has no plan", 'use "heroku-postgresql" or {"plan": "heroku-postgresql"}')
    return out


def _scripts(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("`scripts` must be an object", 'write it as {"postdeploy": "python manage.py seed"}')
    out: dict[str, str] = {}
    for name, command in value.items():
        if isinstance(command, dict):  # {"postdeploy": {"command": "...", "size": ...}}
            command = command.get("command")
        if not isinstance(command, str) or not command.strip():
            raise _fail(f"scripts.{name} has no command", "give it a command string")
        out[str(name)] = command
    return out


def _healthchecks(data: dict[str, Any]) -> dict[str, Any] | None:
    """Health checks: Heroku's `healthchecks` object, or a bare `healthcheck` path for convenience."""
    checks = data.get("healthchecks")
    if isinstance(checks, dict):
        return checks
    path = data.get("healthcheck") or data.get("health_check_path")
    if isinstance(path, str) and path.startswith("/"):
        return {"web": [{"type": "startup", "path": path}]}
    if checks is not None or path is not None:
        raise _fail("`healthchecks` is malformed", 'use {"web": [{"type": "startup", "path": "/health"}]}')
    return None
