from __future__ import annotations

from hoist.core.appjson import resolve_env


def test_defaults_fill_only_missing_keys_and_required_ones_are_reported() -> None:
    spec = {
        "A": {"value": "1", "required": False},
        "B": {"value": "2", "required": False},
        "SECRET_KEY": {"generator": "secret", "required": False},
        "API_KEY": {"required": True, "description": "the weather API key"},
        "OPTIONAL": {"required": False},
    }
    defaults, missing = resolve_env(spec, {"B": "set"}, secret=lambda: "s3cr3t")
    assert defaults == {"A": "1", "SECRET_KEY": "s3cr3t"}
    assert missing == ["API_KEY (the weather API key)"]


def test_nothing_missing_once_required_keys_are_set() -> None:
    defaults, missing = resolve_env({"API_KEY": {"required": True}}, {"API_KEY": "x"})
    assert defaults == {} and missing == []
