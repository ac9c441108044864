"""App setups (`POST /app-setups`, what a "Deploy to Heroku" button calls): an app created from a
tarball in one step, with app.json's add-ons, env and postdeploy script; and how failures are told."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import HoistServer, example_files
from tests.e2e.sources import checksum, tarball, upload, wait_status

APP_JSON: dict[str, Any] = {
    "name": "Hello",
    "env": {"API_KEY": {"required": True}, "GREETING": {"value": "Howdy"}, "SECRET_KEY": {"generator": "secret"}},
    "addons": ["heroku-redis"],
    "scripts": {"postdeploy": "python -c \"import os; print('postdeploy saw', os.environ['REDIS_URL'][:8])\""},
}


def _source(workdir: Path, name: str, app_json: dict[str, Any]) -> Path:
    files = example_files("hello")
    files["app.json"] = json.dumps(app_json)
    return tarball(workdir / f"{name}.tgz", files, top=f"{name}-main")


def _setup(server: HoistServer, body: dict[str, Any]) -> httpx.Response:
    return server.api("POST", "/app-setups", json=body)


def test_an_app_setup_creates_provisions_builds_and_runs_postdeploy(server: HoistServer, workdir: Path) -> None:
    tgz = _source(workdir, "button", APP_JSON)
    url = upload(server, tgz)["get_url"]
    r = _setup(server, {"app": {"name": "button-app", "region": "eu"}, "source_blob": {"url": url, "checksum": checksum(tgz)},
                        "overrides": {"env": {"API_KEY": "k-123", "GREETING": "Hey"}}})
    assert r.status_code == 201, r.text
    setup = r.json()
    assert setup["status"] == "pending" and setup["app"]["name"] == "button-app"
    assert setup["build"]["status"] == "pending" and setup["build"]["output_stream_url"]
    output = httpx.get(setup["build"]["output_stream_url"], timeout=600).text  # follows the build to its end
    assert "Provisioning heroku-redis (from app.json)" in output and "Released v" in output, output

    done = wait_status(server, f"/app-setups/{setup['id']}")
    assert done["status"] == "succeeded", done
    assert done["failure_message"] is None and done["build"]["status"] == "succeeded"
    assert done["postdeploy"]["exit_code"] == 0
    assert "postdeploy saw redis://" in done["postdeploy"]["output"]
    assert server.app_get("button-app").text.startswith("Hey from hoist (web.1)")  # overrides win over app.json
    config = server.api("GET", "/apps/button-app/config-vars").json()
    assert config["API_KEY"] == "k-123" and config["REDIS_URL"].startswith("redis://") and len(config["SECRET_KEY"]) == 64
    assert [a["addon_service"]["name"] for a in server.api("GET", "/apps/button-app/addons").json()] == ["heroku-redis"]
    # the setup outlives a restart of hoist (it is kept in the database)
    server.stop()
    server.start()
    assert server.api("GET", f"/app-setups/{setup['id']}").json()["status"] == "succeeded"


def test_failed_setups_say_why(server: HoistServer, workdir: Path) -> None:
    url = upload(server, _source(workdir, "needs-key", APP_JSON))["get_url"]
    r = _setup(server, {"app": {"name": "needs-key"}, "source_blob": {"url": url}})
    done = wait_status(server, f"/app-setups/{r.json()['id']}")
    assert done["status"] == "failed" and done["postdeploy"] is None
    assert "app.json requires config vars that are not set: API_KEY" in done["failure_message"]
    assert done["build"]["status"] == "failed"

    broken = dict(APP_JSON, addons=[], scripts={"postdeploy": "python -c 'import sys; print(\"half done\"); sys.exit(3)'"})
    url = upload(server, _source(workdir, "bad-post", broken))["get_url"]
    r = _setup(server, {"source_blob": {"url": url}, "overrides": {"env": {"API_KEY": "x"}}})
    name = r.json()["app"]["name"]  # no name given: a random one, as apps:create picks
    done = wait_status(server, f"/app-setups/{r.json()['id']}")
    assert done["status"] == "failed" and done["postdeploy"] == {"output": "half done", "exit_code": 3}
    assert "postdeploy script exited with status 3" in done["failure_message"]
    assert server.app_get(name).text.startswith("Howdy from hoist")  # the release is live nonetheless


def test_bad_setups_are_refused_and_create_nothing(server: HoistServer, workdir: Path) -> None:
    apps_before = {a["name"] for a in server.api("GET", "/apps").json()}
    url = upload(server, _source(workdir, "refused", APP_JSON))["get_url"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"app": {"name": "button-app"}, "source_blob": {"url": url}}, "already taken"),
        ({"app": {"name": "Bad_Name"}, "source_blob": {"url": url}}, "not a valid app name"),
        ({"source_blob": {"url": "file:///etc/passwd"}}, "file://"),
        ({"source_blob": {"url": url, "checksum": "SHA256:" + "1" * 64}}, "checksum says"),
        ({"source_blob": {"url": url}, "overrides": {"env": {"1BAD": "x"}}}, "not a valid config var name"),
        ({"source_blob": {"url": url}, "overrides": {"env": {"N": 3}}}, "must be a string"),
        ({"app": "x"}, "app must be an object"),
    ]
    for body, words in cases:
        r = _setup(server, body)
        assert r.status_code == 422 and words in r.json()["message"], (body, r.text)
    assert {a["name"] for a in server.api("GET", "/apps").json()} == apps_before
    assert server.api("GET", "/app-setups/00000000-0000-0000-0000-000000000000").status_code == 404
