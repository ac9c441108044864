"""Pipelines end to end: a staging app built by a real push, promoted to production by the real heroku CLI
(`heroku pipelines:promote`) and by hoist's CLI; the production app serves the staging slug with its own
config and release phase, without a rebuild. Bad input: a target outside the pipeline, a source with no
release, a user who cannot access both apps."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo
from tests.e2e.heroku_cli import Heroku, heroku_bin
from tests.e2e.test_security import add_user

STAGING, PROD = "pl-staging", "pl-prod"
MARKED_APP = '''import os
from pathlib import Path
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    mark = Path("mark.txt").read_text().strip()
    return f"{os.environ.get('GREETING', 'Hello')} from {mark}\\n"
'''
PROCFILE = "web: gunicorn app:app\nrelease: python -c \"import os; print('release phase with', os.environ['GREETING'])\"\n"


@pytest.fixture(scope="module")
def repo(server: HoistServer, workdir: Path) -> Iterator[Path]:
    for app, greeting in ((STAGING, "staging"), (PROD, "production")):
        server.cli("apps:create", app)
        server.cli("config:set", f"GREETING={greeting}", "-a", app)
    files = {**example_files("hello"), "app.py": MARKED_APP, "Procfile": PROCFILE, "mark.txt": "build-1\n"}
    path = make_repo(workdir / "repo", files, server.env())
    server.git(path, "remote", "add", "hoist", f"{server.url}/{STAGING}.git")
    server.push(path)
    server.wait_for(STAGING, "staging from build-1")
    yield path


def releases(server: HoistServer, app: str) -> list[dict]:  # type: ignore[type-arg]
    return server.api("GET", f"/apps/{app}/releases").json()


def builds(server: HoistServer, app: str) -> int:
    return len(server.api("GET", f"/apps/{app}/builds").json())


@pytest.mark.skipif(heroku_bin() is None, reason="the heroku CLI is not installed: run .ci/run")
def test_the_heroku_cli_creates_a_pipeline_and_promotes(server: HoistServer, repo: Path, workdir: Path) -> None:
    heroku = Heroku(server, workdir / "heroku-home")
    heroku("pipelines:create", "shop", "-a", STAGING, "--stage", "staging")
    heroku("pipelines:add", "shop", "-a", PROD, "--stage", "production")
    couplings = {c["app"]["name"]: c["stage"] for c in server.api("GET", "/pipelines/shop/pipeline-couplings").json()}
    assert couplings == {STAGING: "staging", PROD: "production"}
    assert "shop" in heroku("pipelines").stdout
    out = heroku("pipelines:promote", "-a", STAGING)
    text = out.stdout + out.stderr
    assert "Promotion successful" in text and re.search(rf"{PROD}:\s+succeeded", text), text
    r = server.wait_for(PROD, "production from build-1")  # the staging slug, production's own config
    assert r.status_code == 200
    rel = releases(server, PROD)[-1]
    assert rel["status"] == "succeeded" and rel["description"].startswith(f"Promote {STAGING} v")
    assert builds(server, PROD) == 0  # no rebuild
    output = server.cli("releases:output", "-a", PROD).stdout
    assert "release phase with production" in output  # the target's own release phase and config
    info = heroku("pipelines:info", "shop", check=False)
    assert STAGING in info.stdout and PROD in info.stdout, info.stdout + info.stderr


def test_hoist_promotes_a_new_staging_build(server: HoistServer, repo: Path) -> None:
    if server.api("GET", f"/apps/{STAGING}/pipeline-couplings").status_code == 404:  # without the heroku CLI
        server.cli("pipelines:create", "shop", "-a", STAGING, "--stage", "staging")
        server.cli("pipelines:add", "shop", "-a", PROD, "--stage", "production")
    commit_files(repo, {"mark.txt": "build-2\n"}, server.env(), "build 2")
    server.push(repo)
    server.wait_for(STAGING, "staging from build-2")
    before = len(releases(server, PROD))
    started = time.monotonic()
    out = server.cli("pipelines:promote", "-a", STAGING).stdout
    took = time.monotonic() - started
    assert f"{PROD}: succeeded" in out and "Promotion successful" in out
    server.wait_for(PROD, "production from build-2")
    assert len(releases(server, PROD)) == before + 1 and builds(server, PROD) == 0
    slug_staging = releases(server, STAGING)[-1]["slug"]["id"]
    slug_prod = releases(server, PROD)[-1]["slug"]["id"]
    assert slug_staging != slug_prod  # a copy the production app owns, not the staging app's files
    print(f"promotion with hoist's CLI: {took:.2f}s")
    info = server.cli("pipelines:info", "shop").stdout
    assert re.search(rf"{STAGING}\s+staging\s+v\d+ Deploy", info) and re.search(rf"{PROD}\s+production\s+v\d+ Promote", info)
    assert "shop" in server.cli("pipelines").stdout
    # the staging app keeps serving, untouched
    assert "staging from build-2" in server.app_get(STAGING).text


def test_promoting_to_an_app_outside_the_pipeline(server: HoistServer, repo: Path) -> None:
    server.cli("apps:create", "pl-outside")
    before = len(releases(server, "pl-outside"))
    bad = server.cli("pipelines:promote", "-a", STAGING, "--to", "pl-outside", check=False)
    assert bad.returncode != 0
    assert "pl-outside is not in pipeline shop" in bad.stderr and "pipelines:add shop -a pl-outside" in bad.stderr
    p = server.api("GET", "/pipelines/shop").json()
    staging = server.api("GET", f"/apps/{STAGING}").json()
    outside = server.api("GET", "/apps/pl-outside").json()
    r = server.api("POST", "/pipeline-promotions", json={
        "pipeline": {"id": p["id"]}, "source": {"app": {"id": staging["id"]}}, "targets": [{"app": {"id": outside["id"]}}]})
    assert r.status_code == 422 and "not in pipeline shop" in r.json()["message"]
    assert len(releases(server, "pl-outside")) == before  # nothing released


def test_promoting_from_an_app_with_no_release(server: HoistServer, repo: Path) -> None:
    server.cli("apps:create", "pl-empty")
    server.cli("apps:create", "pl-empty-prod")
    server.cli("pipelines:create", "empty", "-a", "pl-empty", "--stage", "staging")
    server.cli("pipelines:add", "empty", "-a", "pl-empty-prod", "--stage", "production")
    bad = server.cli("pipelines:promote", "-a", "pl-empty", check=False)
    assert bad.returncode != 0 and "pl-empty has no release to promote" in bad.stderr and "git push" in bad.stderr
    # the top of a pipeline has nowhere to go
    top = server.cli("pipelines:promote", "-a", "pl-empty-prod", check=False)
    assert top.returncode != 0 and "no stage after it" in top.stderr
    # bad stages and a second pipeline for the same app
    assert "Stage 'qa' is not one of" in server.api("POST", "/pipeline-couplings", json={
        "app": "pl-outside", "pipeline": "empty", "stage": "qa"}).json()["message"]
    again = server.cli("pipelines:add", "shop", "-a", "pl-empty", "--stage", "staging", check=False)
    assert again.returncode != 0 and "already in pipeline empty" in again.stderr
    third = server.cli("pipelines:create", "third", "-a", "pl-empty", "--stage", "staging", check=False)
    assert third.returncode != 0 and "already in pipeline empty" in third.stderr
    assert server.api("GET", "/pipelines/third").status_code == 404  # not left behind, empty
    server.cli("pipelines:remove", "-a", "pl-empty-prod")
    assert server.api("GET", "/apps/pl-empty-prod/pipeline-couplings").status_code == 404
    server.cli("pipelines:destroy", "empty")
    assert server.api("GET", "/apps/pl-empty/pipeline-couplings").status_code == 404
    assert server.api("GET", "/apps/pl-empty").status_code == 200  # the apps stay


def test_only_users_who_can_access_both_apps_promote(server: HoistServer, repo: Path) -> None:
    _, bob = add_user(server, "bob-pl@example.com")
    # bob sees neither the pipeline nor its apps
    assert server.api("GET", "/pipelines/shop", token=bob).status_code == 404
    assert server.api("GET", "/pipelines", token=bob).json() == []
    server.cli("access:add", "bob-pl@example.com", "-a", STAGING)
    p = server.api("GET", "/pipelines/shop", token=bob)
    assert p.status_code == 200  # he can access one of its apps now
    couplings = server.api("GET", f"/pipelines/{p.json()['id']}/pipeline-couplings", token=bob).json()
    assert [c["app"]["name"] for c in couplings] == [STAGING]  # only the apps he can access
    prod_id = server.api("GET", f"/apps/{PROD}").json()["id"]
    staging_id = server.api("GET", f"/apps/{STAGING}").json()["id"]
    before = len(releases(server, PROD))
    r = server.api("POST", "/pipeline-promotions", token=bob, json={
        "pipeline": {"id": p.json()["id"]}, "source": {"app": {"id": staging_id}}, "targets": [{"app": {"id": prod_id}}]})
    assert r.status_code == 404 and r.json()["resource"] == "app"
    assert len(releases(server, PROD)) == before
    # nor can he destroy the pipeline, or add his own app to shop's stages without access to the pipeline
    assert server.api("DELETE", f"/pipelines/{p.json()['id']}", token=bob).status_code == 403
