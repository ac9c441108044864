"""Debian's Chromium through Playwright for the dashboard's e2e modules: one browser per module,
a logged-in page, and screenshots saved under the module's temporary directory (paths printed)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import tempfile

import pytest
from playwright import sync_api as playwright_api

from tests.e2e.harness import HoistServer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000
PHONE = {"width": 375, "height": 800}


def launch() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install -y chromium (.ci/run does this)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def login(browser: Any, server: HoistServer, email: str | None = None, password: str | None = None,
          viewport: dict[str, int] | None = None) -> Any:
    """A new context's page, logged in with a password, or the admin's API token."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/dashboard/login")
    if email:
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password or "")
    else:
        page.click("summary")
        page.fill("input[name=token]", server.token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard/")
    return page


def shots_dir(module: str) -> Path:
    """A directory for a module's screenshots that outlives the run (pytest's tmp_path_factory keeps only
    the last 3 runs of the user, and other runs on the machine prune it; the module's workdir is removed)."""
    return Path(tempfile.mkdtemp(prefix=f"hoist-{module}-shots-"))


def shoot(page: Any, directory: Path, name: str) -> Path:
    """A full-page screenshot for a reviewer; the path is printed (pytest -s shows it)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def fits(page: Any) -> None:
    """Nothing wider than the viewport (a 375 px phone): the page does not scroll sideways."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


def flash(page: Any) -> str:
    return page.inner_text(".flash")
