"""The dashboard's apps list and settings tab in Debian's Chromium against a live hoist: create an app
(named and random), its settings (domains, ACM, maintenance, sleep, collaborators, git URL), and
destroying it with a typed confirmation; each checked on the page and in hoist's state (the API)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e.browser import PHONE, fits, flash, launch, login, shoot, shots_dir
from tests.e2e.harness import HoistServer

FRIEND, FRIEND_PASSWORD = "carol@example.com", "carol-password-123"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture(scope="module")
def shots() -> Path:
    return shots_dir("dashboard-apps")


@pytest.fixture(scope="module")
def page(browser: Any, server: HoistServer) -> Iterator[Any]:
    pg = login(browser, server)  # the admin, with its API token
    yield pg
    pg.context.close()


def test_create_an_app_by_name_and_at_random(page: Any, server: HoistServer, shots: Path) -> None:
    page.fill("#new-app", "dash-one")
    page.click("#create-app button")
    page.wait_for_url(f"{server.url}/dashboard/apps/dash-one")
    assert "Created dash-one" in flash(page) and f"{server.url}/dash-one.git" in flash(page)
    assert server.api("GET", "/apps/dash-one").json()["name"] == "dash-one"
    page.goto(f"{server.url}/dashboard/")
    page.click("#create-app button")  # no name: a random one
    page.wait_for_url(re.compile(r".*/dashboard/apps/[a-z]+-[a-z]+-\d{4}$"))
    random_name = page.url.rsplit("/", 1)[1]
    assert server.api("GET", f"/apps/{random_name}").status_code == 200
    page.goto(f"{server.url}/dashboard/")
    page.fill("#new-app", "dash-one")  # taken: a clear message, nothing lost
    page.click("#create-app button")
    page.wait_for_url(f"{server.url}/dashboard/")
    assert "already taken" in flash(page)
    assert {"dash-one", random_name} <= {a["name"] for a in server.api("GET", "/apps").json()}
    assert "dash-one" in page.inner_text("#apps")
    shoot(page, shots, "apps")


def test_settings_show_git_and_toggle_maintenance_sleep_and_acm(page: Any, server: HoistServer,
                                                                 shots: Path) -> None:
    page.goto(f"{server.url}/dashboard/apps/dash-one/settings")
    assert page.inner_text("#git-url") == f"{server.url}/dash-one.git"
    assert "git push hoist main" in page.inner_text("#push-cmds")
    page.click("#maintenance button:text('Turn on')")
    assert "Maintenance mode on" in flash(page)
    assert server.api("GET", "/apps/dash-one").json()["maintenance"] is True
    page.click("#maintenance button:text('Turn off')")
    assert server.api("GET", "/apps/dash-one").json()["maintenance"] is False
    page.click("#sleep button:text('Turn on')")
    assert "Sleep on" in flash(page) and server.api("GET", "/apps/dash-one/sleep").json()["enabled"] is True
    page.fill("#domain-host", "www.dash-one.example")
    page.click("#domains form.setvar button")
    assert "Point a CNAME record for it at dash-one." in flash(page)
    row = page.inner_text("#domains tr[data-host='www.dash-one.example']")
    assert "CNAME" in row and "none" in row
    assert "www.dash-one.example" in [d["hostname"] for d in server.api("GET", "/apps/dash-one/domains").json()]
    page.click("#domains .cardhead button:text('Turn on')")
    assert page.inner_text("#acm-state") == "on"
    assert page.inner_text("#domains tr[data-host='www.dash-one.example'] td:nth-child(4)").startswith(
        ("pending", "failing"))
    assert server.api("GET", "/apps/dash-one/domains/www.dash-one.example").json()["acm_status"] in (
        "pending", "failing")
    page.fill("#domain-host", "not a host")
    page.click("#domains form.setvar button")
    assert "not a valid" in flash(page).lower() or "hostname" in flash(page).lower()
    shoot(page, shots, "settings")
    page.once("dialog", lambda d: d.accept())
    page.click("#domains tr[data-host='www.dash-one.example'] button:text('Remove')")
    assert "Removed www.dash-one.example." in flash(page)
    assert len(server.api("GET", "/apps/dash-one/domains").json()) == 1


def test_collaborators_are_added_and_removed(page: Any, server: HoistServer) -> None:
    assert server.api("POST", "/users", json={"email": FRIEND, "password": FRIEND_PASSWORD}).status_code == 201
    page.goto(f"{server.url}/dashboard/apps/dash-one/settings")
    page.fill("#collab-email", FRIEND)
    page.press("#collab-email", "Enter")  # the keyboard submits the form
    page.wait_for_selector(f"#access tr[data-email='{FRIEND}']")
    assert f"Added {FRIEND}" in flash(page)
    emails = [c["user"]["email"] for c in server.api("GET", "/apps/dash-one/collaborators").json()]
    assert FRIEND in emails
    page.fill("#collab-email", "nobody@example.com")
    page.click("#access button:text('Add')")
    assert "nobody@example.com" in flash(page)  # the platform's message: no such user
    page.once("dialog", lambda d: d.accept())
    page.click(f"#access tr[data-email='{FRIEND}'] button:text('Remove')")
    assert f"Removed {FRIEND}." in flash(page)
    assert FRIEND not in [c["user"]["email"] for c in server.api("GET", "/apps/dash-one/collaborators").json()]


def test_keyboard_focus_is_visible_and_a_phone_screen_fits(browser: Any, server: HoistServer, shots: Path) -> None:
    pg = login(browser, server, viewport=PHONE)
    try:
        for path, name in (("/", "apps-phone"), ("/apps/dash-one", "overview-phone"),
                           ("/apps/dash-one/settings", "settings-phone")):
            pg.goto(f"{server.url}/dashboard{path}")
            fits(pg)
            shoot(pg, shots, name)
        pg.keyboard.press("Tab")
        focused = pg.evaluate("[document.activeElement.tagName, getComputedStyle(document.activeElement).outlineStyle]")
        assert focused == ["A", "solid"]
        labels = pg.evaluate("[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
                             ".filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.name)")
        assert labels == []
    finally:
        pg.context.close()


def test_destroy_needs_the_name_typed(page: Any, server: HoistServer, shots: Path) -> None:
    page.goto(f"{server.url}/dashboard/apps/dash-one/settings")
    page.fill("#destroy input[name=confirm]", "dash-on")
    page.click("#destroy button")
    assert "Type the app's name, dash-one, to confirm; you typed 'dash-on'. Nothing was destroyed." in flash(page)
    assert server.api("GET", "/apps/dash-one").status_code == 200
    page.fill("#destroy input[name=confirm]", "dash-one")
    page.click("#destroy button")
    page.wait_for_url(f"{server.url}/dashboard/")
    assert "Destroyed dash-one" in flash(page)
    assert server.api("GET", "/apps/dash-one").status_code == 404
    assert "dash-one" not in page.inner_text("#apps")


def test_a_collaborator_cannot_destroy(browser: Any, server: HoistServer) -> None:
    server.api("POST", "/apps", json={"name": "dash-two"})
    server.api("POST", "/apps/dash-two/collaborators", json={"user": FRIEND})
    pg = login(browser, server, FRIEND, FRIEND_PASSWORD)
    try:
        pg.goto(f"{server.url}/dashboard/apps/dash-two/settings")
        assert pg.locator("#destroy").count() == 0  # no form offered
        token = pg.get_attribute("meta[name=csrf-token]", "content")
        r = pg.request.post(f"{server.url}/dashboard/apps/dash-two/destroy",
                            form={"csrf": token, "confirm": "dash-two"})
        assert r.ok and "Only the owner of dash-two or the admin can destroy it." in r.text()
        assert server.api("GET", "/apps/dash-two").status_code == 200
        r = pg.request.post(f"{server.url}/dashboard/apps/dash-two/destroy", form={"confirm": "dash-two"},
                            max_redirects=0)
        assert r.status == 403  # no CSRF token
    finally:
        pg.context.close()


def _can_log_in(browser: Any, server: HoistServer, email: str, password: str) -> bool:
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{server.url}/dashboard/login")
        pg.fill("input[name=email]", email)
        pg.fill("input[name=password]", password)
        pg.click("button[type=submit]")
        pg.wait_for_load_state()
        return pg.url == f"{server.url}/dashboard/"
    finally:
        context.close()


def test_the_admin_adds_resets_and_removes_users(browser: Any, page: Any, server: HoistServer,
                                                  shots: Path) -> None:
    page.goto(f"{server.url}/dashboard/")
    page.click("header nav a:text('Users')")
    page.wait_for_url(f"{server.url}/dashboard/admin/users")
    page.fill("#user-email", "Dave@Example.com")
    page.click("#add-user button")
    added = re.search(r"Added dave@example.com\. Their password \(shown only now\): (\S+)", flash(page))
    assert added, flash(page)
    assert "dave@example.com" in [u["email"] for u in server.api("GET", "/users").json()]
    assert _can_log_in(browser, server, "dave@example.com", added.group(1))
    page.fill("#user-email", "dave@example.com")
    page.click("#add-user button")
    assert "A user dave@example.com exists already." in flash(page)
    shoot(page, shots, "users")
    page.once("dialog", lambda d: d.accept())
    page.click("#users tr[data-email='dave@example.com'] button:text('Reset password')")
    reset = re.search(r"New password for dave@example.com \(shown only now\): (\S+)", flash(page))
    assert reset and reset.group(1) != added.group(1)
    assert not _can_log_in(browser, server, "dave@example.com", added.group(1))
    assert _can_log_in(browser, server, "dave@example.com", reset.group(1))
    page.once("dialog", lambda d: d.accept())
    page.click("#users tr[data-email='dave@example.com'] button:text('Remove')")
    assert "Removed dave@example.com." in flash(page)
    assert "dave@example.com" not in [u["email"] for u in server.api("GET", "/users").json()]
    assert page.locator("#users tr[data-email='admin@hoist.local'] button").count() == 0


def test_users_are_the_admins_only(browser: Any, server: HoistServer) -> None:
    pg = login(browser, server, FRIEND, FRIEND_PASSWORD)
    try:
        assert pg.locator("header nav a:text('Users')").count() == 0
        response = pg.goto(f"{server.url}/dashboard/admin/users")
        assert response.status == 403 and "Only the admin can manage users" in pg.inner_text("main")
        token = pg.get_attribute("meta[name=csrf-token]", "content")
        r = pg.request.post(f"{server.url}/dashboard/admin/users", form={"csrf": token, "email": "eve@example.com"})
        assert "Only the admin can manage users" in r.text()
        assert "eve@example.com" not in [u["email"] for u in server.api("GET", "/users").json()]
    finally:
        pg.context.close()


def test_the_cli_resets_a_password_as_the_dashboard_does(browser: Any, server: HoistServer) -> None:
    open_session = login(browser, server, FRIEND, FRIEND_PASSWORD)
    out = server.cli("users:password-reset", FRIEND).stdout
    fresh = re.search(rf"New password for {re.escape(FRIEND)} \(shown once\): (\S+)", out)
    assert fresh, out
    try:  # the session they had open ends, as with the dashboard's own reset
        open_session.goto(f"{server.url}/dashboard/")
        assert open_session.url.startswith(f"{server.url}/dashboard/login"), open_session.url
    finally:
        open_session.context.close()
    assert not _can_log_in(browser, server, FRIEND, FRIEND_PASSWORD)
    assert _can_log_in(browser, server, FRIEND, fresh.group(1))
    missing = server.api("POST", "/users/nobody@example.com/password-reset")
    assert missing.status_code == 404 and "There is no user" in missing.json()["message"]
