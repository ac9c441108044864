"""The web dashboard in a real browser: Debian's chromium driven by Playwright,
against a real hoist server with examples/hello deployed through git push."""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright import sync_api as playwright_api

from tests.e2e.browser import shoot, shots_dir
from tests.e2e.harness import HoistServer, example_files, make_repo

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
EMAIL, PASSWORD = "bob@example.com", "correct-horse-battery"
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def shots() -> Path:
    return shots_dir("dashboard")


@pytest.fixture(scope="module")
def deployed(server: HoistServer, workdir: Path) -> HoistServer:
    """hello pushed by the admin and shared with bob; `private` not shared."""
    repo = make_repo(workdir / "hello", example_files("hello"), server.env())
    server.cli("apps:create", "hello", cwd=repo)
    server.push(repo)
    assert server.app_get("hello").text.startswith("Hello from hoist (web.1)")
    assert server.api("POST", "/users", json={"email": EMAIL, "password": PASSWORD}).status_code == 201
    assert server.api("POST", "/apps/hello/collaborators", json={"user": EMAIL}).status_code == 201
    assert server.api("POST", "/apps", json={"name": "private"}).status_code == 201
    return server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install -y chromium (.ci/run does this)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser: Any, deployed: HoistServer) -> Iterator[Any]:
    """One logged-out browser context for the module's story, in order."""
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    context.set_default_timeout(WAIT_MS)
    pg = context.new_page()
    yield pg
    context.close()


def test_a_logged_out_request_redirects_to_login(page: Any, deployed: HoistServer, shots: Path) -> None:
    page.goto(f"{deployed.url}/dashboard/apps/hello")
    assert "/dashboard/login?next=/dashboard/apps/hello" in page.url
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "Wrong email or password" in page.inner_text(".error")
    shoot(page, shots, "login")


def test_login_shows_only_the_users_apps(page: Any, deployed: HoistServer) -> None:
    page.goto(f"{deployed.url}/dashboard/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{deployed.url}/dashboard/")
    rows = page.inner_text("#apps")
    assert "hello" in rows and "private" not in rows
    assert "/hello.localhost:" in rows or "hello.localhost" in rows
    assert "v2" in rows  # the push's release
    cookie = next(c for c in page.context.cookies() if c["name"] == "hoist_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard/"
    assert page.evaluate("document.cookie") == ""  # nothing a script could read


def test_app_page_shows_web_1_up(page: Any) -> None:
    page.click("#apps a:text('hello')")
    page.wait_for_selector("#dynos tr[data-dyno='web.1'] .state.up")
    row = page.inner_text("#dynos tr[data-dyno='web.1']")
    assert "v2" in row
    assert "web" in page.inner_text("#formation")


def test_a_request_appears_in_live_logs_and_metrics(page: Any, deployed: HoistServer) -> None:
    page.wait_for_selector("#log-status:text('live')")
    probe = f"/probe-{uuid.uuid4().hex[:8]}"
    assert deployed.app_get("hello", probe).status_code == 404  # Flask's 404, through the router
    page.wait_for_selector(f"#log-lines div.router:has-text('path=\"{probe}\"')")
    # The metrics fragment refreshes every few seconds from the same router lines.
    page.wait_for_selector("#m-statuses [data-status='404']")
    assert int(page.inner_text("#m-requests")) >= 1
    assert page.inner_text("#m-p50") != "–"


def test_restart_a_dyno_with_a_click(page: Any, deployed: HoistServer) -> None:
    before = deployed.api("GET", "/apps/hello/dynos/web.1").json()["created_at"]
    page.click("#dynos tr[data-dyno='web.1'] button:text('Restart')")
    page.wait_for_selector(".flash:text('Restarting web.1.')")
    deadline = time.monotonic() + 30
    while True:
        dyno = deployed.api("GET", "/apps/hello/dynos/web.1").json()
        if dyno.get("created_at", before) != before and dyno.get("state") == "up":
            break
        assert time.monotonic() < deadline, f"web.1 was not restarted: {dyno}"
        time.sleep(0.2)
    logs = deployed.cli("logs", "-n", "50", "-a", "hello").stdout
    assert f"app[api]: Restart web.1 by user {EMAIL}" in logs


def test_set_a_config_var_with_the_form(page: Any, deployed: HoistServer, shots: Path) -> None:
    page.fill("#config input[name=key]", "GREETING")
    page.fill("#config input[name=value]", "Howdy <b>")
    page.click("#config button:text('Set')")
    page.wait_for_selector(".flash:text('Set GREETING: release v3.')")
    assert "Set GREETING config vars" in page.inner_text("#releases tr[data-version='3']")
    assert "current" in page.inner_text("#releases tr[data-version='3']")
    row = "#config tr[data-key='GREETING']"
    assert not page.is_visible(f"{row} .value")  # hidden until revealed
    page.click(f"{row} button[data-reveal]")
    assert page.inner_text(f"{row} .value") == "Howdy <b>"  # escaped text, not markup
    assert deployed.app_get("hello").text.startswith("Howdy <b> from hoist")
    page.wait_for_selector("#dynos tr[data-dyno='web.1'] .state.up")
    # Memory is sampled every few seconds; the dynos and metrics fragments refresh with it.
    page.wait_for_selector("#dynos tr[data-dyno='web.1'] td:has-text(' MB')")
    page.wait_for_selector("#metrics svg rect.mem")
    shoot(page, shots, "overview")


def test_roll_back_with_a_click(page: Any, deployed: HoistServer) -> None:
    page.once("dialog", lambda d: d.accept())
    page.click("#releases tr[data-version='2'] button:text('Roll back')")
    page.wait_for_selector(".flash:text('Rolled back to v2: release v4.')")
    assert deployed.app_get("hello").text.startswith("Hello from hoist")


def test_new_addon_kinds_and_scheduler_jobs_on_the_app_page(page: Any, deployed: HoistServer) -> None:
    deployed.cli("addons:create", "redistogo:nano", "-a", "hello")
    deployed.cli("addons:create", "scheduler", "-a", "hello")
    page.goto(f"{deployed.url}/dashboard/apps/hello")
    addons = page.inner_text("#addons")
    assert "redistogo:nano" in addons and "REDISTOGO_URL" in addons and "scheduler:standard" in addons
    assert "No jobs yet." in page.inner_text("#scheduler")
    page.fill("#scheduler input[name=command]", "python report.py")
    page.select_option("#scheduler select[name=every]", "1h")
    page.fill("#scheduler input[name=at]", ":30")
    page.click("#scheduler button:text('Add job')")
    page.wait_for_selector(".flash:has-text('Added scheduler job')")
    row = page.inner_text("#scheduler tbody tr")
    assert "every hour at :30" in row and "python report.py" in row and "never" in row
    [job] = deployed.api("GET", "/apps/hello/scheduler/jobs").json()
    assert job["every"] == "1h" and job["at"] == ":30" and job["next_run_at"].endswith(":30:00Z")
    page.fill("#scheduler input[name=command]", "python report.py")
    page.select_option("#scheduler select[name=every]", "1d")
    page.fill("#scheduler input[name=at]", "25:00")
    page.click("#scheduler button:text('Add job')")
    page.wait_for_selector(".flash:has-text('a daily job runs at a time of day in UTC')")
    page.once("dialog", lambda d: d.accept())
    page.click(f"#scheduler tr[data-job='{job['id']}'] button:text('Remove')")
    page.wait_for_selector(f".flash:text('Removed scheduler job {job['id']}.')")
    assert deployed.api("GET", "/apps/hello/scheduler/jobs").json() == []


def test_unknown_and_forbidden_apps_look_the_same(page: Any, deployed: HoistServer) -> None:
    texts = []
    for name in ("private", "no-such-app"):
        response = page.goto(f"{deployed.url}/dashboard/apps/{name}")
        assert response.status == 404
        texts.append(page.inner_text("main"))
    assert texts[0] == texts[1] and "Couldn't find that app" in texts[0]
    assert page.request.get(f"{deployed.url}/dashboard/apps/private/metrics").status == 404


def test_state_changes_need_the_csrf_token(page: Any, deployed: HoistServer) -> None:
    url = f"{deployed.url}/dashboard/apps/hello/config"
    # The session cookie is sent (same context), but no token: refused.
    r = page.request.post(url, form={"key": "EVIL", "value": "1"}, max_redirects=0)
    assert r.status == 403
    # The right token from another site's origin: refused too.
    page.goto(f"{deployed.url}/dashboard/apps/hello")
    token = page.get_attribute("meta[name=csrf-token]", "content")
    r = page.request.post(url, form={"key": "EVIL", "value": "1", "csrf": token},
                          headers={"Origin": "http://evil.example"}, max_redirects=0)
    assert r.status == 403
    # A real cross-site form post: the SameSite=Strict cookie is not even sent.
    page.route("http://evil.example/", lambda route: route.fulfill(content_type="text/html", body=(
        f'<form method="post" action="{url}"><input name="key" value="EVIL"><input name="value" value="1">'
        '</form><script>document.forms[0].submit()</script>')))
    page.goto("http://evil.example/")
    page.wait_for_url(f"{deployed.url}/dashboard/login**")
    assert "EVIL" not in deployed.api("GET", "/apps/hello/config-vars").json()
    r = page.request.post(f"{deployed.url}/dashboard/apps/hello/log-session", data={"tail": True})
    assert r.status == 403


def test_logout_ends_the_session(page: Any, deployed: HoistServer) -> None:
    page.goto(f"{deployed.url}/dashboard/")
    page.click("button:text('Log out')")
    page.wait_for_url(f"{deployed.url}/dashboard/login")
    page.goto(f"{deployed.url}/dashboard/apps/hello")
    assert "/dashboard/login" in page.url


def test_an_api_token_logs_in_too(browser: Any, deployed: HoistServer) -> None:
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{deployed.url}/dashboard/login")
        pg.click("summary")
        pg.fill("input[name=token]", deployed.token)
        pg.click("button[type=submit]")
        pg.wait_for_url(f"{deployed.url}/dashboard/")
        assert "private" in pg.inner_text("#apps")  # the admin sees every app
    finally:
        context.close()
