"""apps:transfer: the owner (or the admin) hands an app to another user; the previous owner stays on as
a collaborator unless removed; the activity log says who did it; bad recipients are refused."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import HoistServer
from tests.e2e.heroku_cli import Heroku, heroku_bin
from tests.e2e.test_security import add_user


def _owner(server: HoistServer, app: str) -> str:
    owner: str = server.api("GET", f"/apps/{app}").json()["owner"]["email"]
    return owner


def _collaborators(server: HoistServer, app: str) -> list[str]:
    return sorted(c["user"]["email"] for c in server.api("GET", f"/apps/{app}/collaborators").json()
                  if c["role"] == "collaborator")


@pytest.fixture(scope="module")
def tokens(server: HoistServer) -> dict[str, str]:
    return {name: add_user(server, f"{name}@example.com")[1] for name in ("ada", "bob")}


def test_transfer_between_users_with_hoist_and_the_heroku_cli(server: HoistServer, workdir: Path,
                                                              tokens: dict[str, str]) -> None:
    ada, bob = tokens["ada"], tokens["bob"]
    assert server.api("POST", "/apps", token=ada, json={"name": "gift-app"}).status_code == 201

    out = server.cli("apps:transfer", "bob@example.com", "-a", "gift-app", token=ada).stdout
    assert "Transferring gift-app to bob@example.com... done" in out
    assert _owner(server, "gift-app") == "bob@example.com"
    assert _collaborators(server, "gift-app") == ["ada@example.com"]
    assert server.api("GET", "/apps/gift-app/config-vars", token=ada).status_code == 200  # still has access

    # ada is only a collaborator now: she may not give the app away again
    r = server.api("POST", "/account/app-transfers", token=ada, json={"app": "gift-app", "recipient": "ada@example.com"})
    assert r.status_code == 403 and "Only the owner of gift-app or the admin" in r.json()["message"]

    if heroku_bin():
        heroku = Heroku(server, workdir / "heroku-bob")
        proc = heroku("apps:transfer", "ada@example.com", "-a", "gift-app", env={"HEROKU_API_KEY": bob})
        assert "Initiating transfer of gift-app to ada@example.com... done" in proc.stderr + proc.stdout
    else:
        server.cli("apps:transfer", "ada@example.com", "-a", "gift-app", token=bob)
    assert _owner(server, "gift-app") == "ada@example.com"
    assert _collaborators(server, "gift-app") == ["bob@example.com"]

    activity = server.api("GET", "/apps/gift-app/activity").json()
    transfers = [(a["user"]["email"], a["detail"]) for a in activity if a["action"] == "transfer"]
    assert transfers == [
        ("ada@example.com", "from ada@example.com to bob@example.com (ada@example.com stays on as a collaborator)"),
        ("bob@example.com", "from bob@example.com to ada@example.com (bob@example.com stays on as a collaborator)"),
    ]


def test_the_admin_transfers_and_removes_the_previous_owner(server: HoistServer, tokens: dict[str, str]) -> None:
    r = server.api("PATCH", "/apps/gift-app", json={"owner": "bob@example.com", "remove_previous_owner": True})
    assert r.status_code == 200 and r.json()["owner"]["email"] == "bob@example.com"
    assert _collaborators(server, "gift-app") == []
    assert server.api("GET", "/apps", token=tokens["ada"]).json() == []
    assert server.api("GET", "/apps/gift-app", token=tokens["ada"]).status_code == 404


def test_bad_recipients_are_refused(server: HoistServer) -> None:
    cases = [({"app": "gift-app", "recipient": "nobody@example.com"}, 404, "There is no user 'nobody@example.com'"),
             ({"app": "gift-app", "recipient": "bob@example.com"}, 422, "owns gift-app already"),
             ({"app": "gift-app", "recipient": "not-an-email"}, 422, "email"),
             ({"app": "no-such-app", "recipient": "bob@example.com"}, 404, "Couldn't find that app"),
             ({"recipient": "bob@example.com"}, 422, "Send {\"app\"")]
    for body, status, words in cases:
        r = server.api("POST", "/account/app-transfers", json=body)
        assert r.status_code == status and words in r.json()["message"], (body, r.text)
    r = server.api("PATCH", "/apps/gift-app", json={"owner": "nobody@example.com"})
    assert r.status_code == 404 and r.json()["resource"] == "user"
    assert _owner(server, "gift-app") == "bob@example.com"
