from __future__ import annotations

import pytest

from hoist.builder.appjson import parse_app_json
from hoist.builder.errors import BuildError


def test_full_app_json() -> None:
    text = """{
      "name": "notes",
      "formation": {"web": {"quantity": 2, "size": "basic"}, "worker": {"quantity": "1"}},
      "env": {
        "SECRET_KEY": {"generator": "secret"},
        "API_TOKEN": {"description": "token", "required": true},
        "MODE": "production",
        "DEBUG": {"value": "0"}
      },
      "addons": ["heroku-postgresql", {"plan": "heroku-redis:mini", "as": "CACHE"}],
      "scripts": {"postdeploy": "python seed.py"},
      "healthchecks": {"web": [{"type": "startup", "path": "/health"}]}
    }"""
    data = parse_app_json(text)
    assert data["formation"] == {"web": {"quantity": 2, "size": "basic"}, "worker": {"quantity": 1}}
    assert data["env"] == {
        "SECRET_KEY": {"required": False, "generator": "secret"},
        "API_TOKEN": {"required": True, "description": "token"},
        "MODE": {"required": False, "value": "production"},
        "DEBUG": {"required": False, "value": "0"},
    }
    assert data["addons"] == [{"plan": "heroku-postgresql"}, {"plan": "heroku-redis:mini", "as": "CACHE"}]
    assert data["scripts"] == {"postdeploy": "python seed.py"}
    assert data["healthchecks"] == {"web": [{"type": "startup", "path": "/health"}]}
    assert data["name"] == "notes"


def test_empty_and_healthcheck_path() -> None:
    data = parse_app_json('{"healthcheck": "/up"}')
    assert data == {"formation": {}, "env": {}, "addons": [], "scripts": {},
                    "healthchecks": {"web": [{"type": "startup", "path": "/up"}]}}


def test_invalid_json_names_line() -> None:
    with pytest.raises(BuildError, match=r"^app.json is not valid JSON: line 4 column 1: Expecting .,. delimiter; fix that line"):
        parse_app_json('{\n  "formation": {}\n\n')


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"formation": {"web": {"quantity": -1}}}', "formation.web.quantity is -1"),
        ('{"formation": {"bad name": {}}}', "not a valid process type"),
        ('{"env": {"1BAD": "x"}}', "not a valid config var name"),
        ('{"addons": [{}]}', "has no plan"),
        ('{"scripts": {"postdeploy": ""}}', "scripts.postdeploy has no command"),
        ("[]", "must contain a JSON object"),
    ],
)
def test_invalid_fields(text: str, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        parse_app_json(text)
