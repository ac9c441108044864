"""Applying app.json's `env` to an app's config (pure)."""
from __future__ import annotations

import secrets
from typing import Any, Callable, Mapping


def resolve_env(
    spec: Mapping[str, Mapping[str, Any]], config: Mapping[str, str],
    secret: Callable[[], str] = lambda: secrets.token_hex(32),
) -> tuple[dict[str, str], list[str]]:
    """Return (defaults to set for keys not in config, messages for required keys still missing)."""
    defaults: dict[str, str] = {}
    missing: list[str] = []
    for key, entry in spec.items():
        if key in config:
            continue
        if "value" in entry:
            defaults[key] = str(entry["value"])
        elif entry.get("generator") == "secret":
            defaults[key] = secret()
        elif entry.get("required"):
            description = entry.get("description")
            missing.append(f"{key}" + (f" ({description})" if description else ""))
    return defaults, missing
