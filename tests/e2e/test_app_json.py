"""app.json: env defaults and required vars, formation, postdeploy, health check path."""
from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo

APP_JSON = {
    "env": {"API_KEY": {"required": True, "description": "the weather API key"},
            "GREETING": {"value": "Howdy"}, "SECRET_KEY": {"generator": "secret"}},
    "formation": {"web": {"quantity": 1}, "worker": {"quantity": 1}},
    "addons": ["heroku-postgresql"],
    "scripts": {"postdeploy": "echo postdeploy-ran-for-$DYNO"},
    "healthchecks": {"web": [{"type": "startup", "path": "/"}]},
}


def test_app_json_is_applied_on_deploy(server: HoistServer, workdir: Path) -> None:
    files = example_files("hello")
    files["app.json"] = json.dumps(APP_JSON)
    files["Procfile"] = "web: gunicorn app:app\nworker: python -c 'import time; time.sleep(3600)'\n"
    repo = make_repo(workdir / "aj", files, server.env())
    server.cli("apps:create", "appjson-demo", cwd=repo)

    refused = server.push(repo, check=False)
    assert refused.returncode != 0
    assert "app.json requires config vars that are not set: API_KEY (the weather API key)" in refused.stderr
    assert "hoist config:set API_KEY=... -a appjson-demo" in refused.stderr

    server.cli("config:set", "API_KEY=abc", "-a", "appjson-demo")
    push = server.push(repo)
    assert "Set GREETING, SECRET_KEY from app.json" in push.stderr
    assert "Provisioning heroku-postgresql (from app.json)" in push.stderr and "attached as DATABASE_URL" in push.stderr
    assert "postdeploy-ran-for-postdeploy.1" in push.stderr
    assert server.app_get("appjson-demo").text.startswith("Howdy from hoist")
    config = server.api("GET", "/apps/appjson-demo/config-vars").json()
    assert len(config["SECRET_KEY"]) == 64 and config["API_KEY"] == "abc"
    assert config["DATABASE_URL"].startswith("postgres://")
    addons = server.api("GET", "/apps/appjson-demo/addons").json()
    assert [a["addon_service"]["name"] for a in addons] == ["heroku-postgresql"]
    formation = {f["type"]: f["quantity"] for f in server.api("GET", "/apps/appjson-demo/formation").json()}
    assert formation == {"web": 1, "worker": 1}

    # postdeploy runs once: not again on the next deploy.
    commit_files(repo, {"app.py": (repo / "app.py").read_text() + "\n# v2\n"}, server.env(), "v2")
    again = server.push(repo)
    assert "postdeploy" not in again.stderr and "Provisioning" not in again.stderr
