"""The Platform API as Heroku clients read it, over raw HTTP shaped like the
heroku CLI's requests: paging, headers, error shapes, the resources hoist
does not have, and 401s on every door (API, log stream, git)."""
from __future__ import annotations

import httpx
import pytest

from tests.e2e.harness import HoistServer

CLI_ACCEPT = "application/vnd.heroku+json; version=3.sdk"


@pytest.fixture(scope="module")
def apps(server: HoistServer) -> list[str]:
    names = ["compat-a", "compat-b", "compat-c"]
    for name in names:
        assert server.api("POST", "/apps", json={"name": name}).status_code == 201
    return names


def test_range_paging(server: HoistServer, apps: list[str]) -> None:
    first = server.api("GET", "/apps", headers={"Range": "name ..; max=2"})
    assert first.status_code == 206
    assert [a["name"] for a in first.json()] == apps[:2]
    nxt = first.headers["Next-Range"]
    assert "max=2" in nxt
    rest = server.api("GET", "/apps", headers={"Range": nxt})
    assert rest.status_code == 200 and [a["name"] for a in rest.json()] == apps[2:]
    assert "Next-Range" not in rest.headers  # only when more exist
    whole = server.api("GET", "/apps", headers={"Range": "id ..; ;"})
    assert whole.status_code == 200 and "Next-Range" not in whole.headers and len(whole.json()) == 3
    assert "name" in whole.headers["Accept-Ranges"]
    newest = server.api("GET", f"/apps/{apps[0]}/releases", headers={"Range": "version ..; order=desc,max=1"})
    assert newest.status_code == 200 and newest.json()[0]["version"] == 1 and "Next-Range" not in newest.headers


@pytest.mark.parametrize("header", ["garbage", "name ..; max=abc", "name ..; max=0", "name ..; order=sideways",
                                    "nosuchfield ..", "name ..; colour=red"])
def test_malformed_range_is_400(server: HoistServer, apps: list[str], header: str) -> None:
    r = server.api("GET", "/apps", headers={"Range": header})
    assert r.status_code == 400
    assert r.json()["id"] == "bad_request" and "range" in r.json()["message"].lower()


def test_headers_and_accept_versions(server: HoistServer, apps: list[str]) -> None:
    rid = "0123456789abcdef0123456789abcdef"
    r = server.api("GET", "/account", headers={"Accept": CLI_ACCEPT, "Request-Id": rid})
    assert r.status_code == 200
    assert r.headers["Request-Id"] == rid and int(r.headers["RateLimit-Remaining"]) > 0
    assert r.headers["content-type"].startswith("application/json")
    assert {"id", "email"} <= set(r.json())
    for accept in ("application/vnd.heroku+json; version=3", "application/vnd.heroku+json; version=3.cedar-acm"):
        assert server.api("GET", f"/apps/{apps[0]}", headers={"Accept": accept}).status_code == 200


def test_app_fields_the_cli_reads(server: HoistServer, apps: list[str]) -> None:
    app = server.api("GET", f"/apps/{apps[0]}").json()
    for key in ("id", "name", "web_url", "git_url", "created_at", "released_at", "maintenance", "slug_size",
                "repo_size", "create_status"):
        assert key in app
    assert app["generation"]["name"] == "cedar" and app["stack"]["name"] and app["region"]["name"]
    assert app["owner"]["email"] == "admin@hoist.local" and app["create_status"] == "complete"
    rel = server.api("GET", f"/apps/{apps[0]}/releases/1").json()
    assert rel["current"] is True and rel["eligible_for_rollback"] is True and rel["user"]["email"]
    assert server.api("GET", f"/apps/{apps[0]}/releases/1/config-vars").json() == {}


def test_features_hoist_does_not_have(server: HoistServer, apps: list[str]) -> None:
    app = apps[0]
    r = server.api("GET", f"/apps/{app}/pipeline-couplings")
    assert r.status_code == 404 and r.json()["id"] == "not_found"
    for path in ("/teams", "/spaces", "/pipelines", "/account/features", f"/apps/{app}/features",
                 f"/apps/{app}/collaborators", f"/apps/{app}/addon-attachments", "/addon-attachments"):
        r = server.api("GET", path)
        assert r.status_code == 200 and isinstance(r.json(), list), path
    # As on Heroku: no buildpack until one is set (or a build detects Python); only heroku/python can be set.
    assert server.api("GET", f"/apps/{app}/buildpack-installations").json() == []
    put = server.api("PUT", f"/apps/{app}/buildpack-installations", json={"updates": [{"buildpack": (
        "https://buildpack-registry.s3.amazonaws.com/buildpacks/heroku/python.tgz")}]})
    assert put.status_code == 200 and put.json()[0]["buildpack"]["name"] == "heroku/python"
    bps = server.api("GET", f"/apps/{app}/buildpack-installations").json()
    assert bps[0]["buildpack"]["name"] == "heroku/python"
    node = server.api("PUT", f"/apps/{app}/buildpack-installations", json={"updates": [{"buildpack": "heroku/nodejs"}]})
    assert node.status_code == 422 and node.json()["message"] == (
        "hoist has no buildpack 'heroku/nodejs': it builds Python apps with its own builder, which does what "
        "heroku/python does. Run `heroku buildpacks:set heroku/python`, or `heroku buildpacks:clear` (hoist detects "
        "Python apps by itself).")
    found = httpx.get(f"{server.url}/buildpack-registry/buildpacks/heroku%2Fpython", timeout=30)
    assert found.json()["blob_url"] == "https://buildpack-registry.s3.amazonaws.com/buildpacks/heroku/python.tgz"
    for path in ("/teams/acme", "/teams/acme/members", "/spaces/x", f"/apps/{app}/features/preboot"):
        r = server.api("GET", path)
        assert r.status_code == 404 and r.json()["id"] == "not_found", path
    r = server.api("GET", "/apps/no-such-app/features")
    assert r.status_code == 404 and r.json()["resource"] == "app"


def test_unknown_resources_and_fields(server: HoistServer, apps: list[str]) -> None:
    r = server.api("GET", "/no-such-resource")
    assert r.status_code == 404 and r.json()["id"] == "not_found" and r.json()["message"]
    r = server.api("PATCH", f"/apps/{apps[0]}", json={"colour": "red"})
    assert r.status_code == 422 and r.json()["id"] == "invalid_params" and "colour" in r.json()["message"]
    r = server.api("GET", f"/apps/{apps[0]}/releases/999")
    assert r.status_code == 404 and r.json()["resource"] == "release"
    r = server.api("POST", "/apps", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["id"] == "bad_request"


def test_unauthorized_everywhere(server: HoistServer, apps: list[str]) -> None:
    for token in (None, "wrong-token"):
        headers = {"Accept": CLI_ACCEPT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        r = httpx.get(f"{server.url}/apps", headers=headers)
        assert r.status_code == 401 and r.json()["id"] == "unauthorized"
    r = httpx.get(f"{server.url}/log-streams/not-a-session", headers={"Accept": "text/event-stream"})
    assert r.status_code == 401 and r.json()["id"] == "unauthorized"
    r = httpx.get(f"{server.url}/{apps[0]}.git/info/refs", params={"service": "git-receive-pack"})
    assert r.status_code == 401
    # A wrong token on git gets git's own error line (git would prompt for a username after a 401).
    r = httpx.get(f"{server.url}/{apps[0]}.git/info/refs", params={"service": "git-receive-pack"},
                  auth=("", "wrong-token"))
    assert b"ERR Invalid credentials provided" in r.content
    r = server.api("POST", f"/apps/{apps[0]}/log-sessions", token="wrong-token", json={})
    assert r.status_code == 401


def test_ca_certificate_is_public(server: HoistServer) -> None:
    r = httpx.get(f"{server.url}/hoist/ca.pem")
    assert r.status_code == 200 and r.text.startswith("-----BEGIN CERTIFICATE-----")
    assert r.text == (server.home / "tls" / "ca.pem").read_text()
