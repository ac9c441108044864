from __future__ import annotations

import json
import re

import pytest

from hoist.contracts.appjson import (
    AddonSpec, AppJson, AppJsonError, EnvSpec, ProcessSpec, from_json, parse, resolve_env,
)


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


def test_parsed_app_json_round_trips_through_its_stored_form() -> None:
    text = """{"name": "notes", "formation": [{"process": "web", "quantity": "2"}],
              "env": {"MODE": "production", "API_KEY": {"description": "key"}},
              "addons": ["heroku-postgresql", {"plan": "heroku-redis:mini", "as": "CACHE"}],
              "scripts": {"postdeploy": {"command": "python seed.py"}}, "healthcheck": "/up"}"""
    parsed = parse(text)
    assert parsed.formation == {"web": ProcessSpec(2)}
    assert parsed.env == {"MODE": EnvSpec(False, value="production"), "API_KEY": EnvSpec(True, description="key")}
    assert parsed.addons == (AddonSpec("heroku-postgresql"), AddonSpec("heroku-redis:mini", attach_as="CACHE"))
    assert parsed.postdeploy == "python seed.py" and parsed.web_health_path == "/up" and parsed.name == "notes"
    assert from_json(json.loads(json.dumps(parsed.to_json()))) == parsed


def test_no_health_check_and_no_postdeploy() -> None:
    parsed = parse('{"healthchecks": {"web": [{"type": "startup"}, {"path": "relative"}]}}')
    assert parsed.web_health_path is None and parsed.postdeploy is None
    assert AppJson().to_json() == {"formation": {}, "env": {}, "addons": [], "scripts": {}, "healthchecks": None}


def test_errors_name_the_field_and_the_fix() -> None:
    with pytest.raises(AppJsonError, match=r"^app.json: `healthchecks` is malformed; use "):
        parse('{"healthchecks": "/health"}')
    with pytest.raises(AppJsonError, match=r"^app.json is not valid JSON: line 1 column 2"):
        parse("{")


def test_environments_test_is_parsed_and_round_trips() -> None:
    from hoist.contracts.appjson import TestEnv
    text = json.dumps({"environments": {"test": {
        "scripts": {"test-setup": "python setup.py", "test": "pytest -q"},
        "addons": ["heroku-postgresql", {"plan": "heroku-redis", "as": "CACHE"}],
        "env": {"DEBUG": True, "LEVEL": 3, "NAME": {"value": "x"}}}}})
    parsed = parse(text)
    assert parsed.test_env == TestEnv(
        scripts={"test-setup": "python setup.py", "test": "pytest -q"},
        addons=(AddonSpec("heroku-postgresql"), AddonSpec("heroku-redis", "CACHE")),
        env={"DEBUG": "true", "LEVEL": "3", "NAME": "x"})
    assert parsed.test_env is not None and parsed.test_env.test == "pytest -q"
    assert parsed.test_env.setup == "python setup.py"
    assert from_json(parsed.to_json()) == parsed
    assert parse("{}").test_env is None and "environments" not in parse("{}").to_json()


@pytest.mark.parametrize("environments, words", [
    ([], "`environments` must be an object"),
    ({"test": "pytest"}, "`environments.test` must be an object"),
    ({"test": {"env": []}}, "environments.test.env must be an object"),
    ({"test": {"env": {"bad key": "x"}}}, "environments.test.env"),
    ({"test": {"env": {"K": [1]}}}, "environments.test.env.K has no value"),
    ({"test": {"scripts": {"test": ""}}}, "scripts.test has no command"),
])
def test_bad_environments_say_which_field(environments: object, words: str) -> None:
    with pytest.raises(AppJsonError, match=re.escape(words)):
        from_json({"environments": environments})
