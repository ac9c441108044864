"""The data tab in Debian's Chromium against a live hoist with a real PostgreSQL add-on: the
database's facts, dataclips (run, see the table, save, copy the secret URLs, delete) returning the
same CSV as one made with the CLI, backups (capture, download, restore after typing the app's
name) and credential rotation; each checked on the page and in hoist's state."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.e2e.browser import PHONE, fits, flash, launch, login, shoot, shots_dir
from tests.e2e.harness import HoistServer

APP = "datadash"
SQL = "SELECT name, qty FROM items ORDER BY id"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture(scope="module")
def shots() -> Path:
    return shots_dir("dashboard-data")


@pytest.fixture(scope="module")
def db_app(server: HoistServer) -> HoistServer:
    server.cli("apps:create", APP)
    out = server.cli("addons:create", "heroku-postgresql", "-a", APP).stdout
    assert "as DATABASE_URL" in out
    server.cli("pg:psql", "-c", "CREATE TABLE items (id serial PRIMARY KEY, name text, qty int); "
               "INSERT INTO items (name, qty) VALUES ('apple', 3), ('pear, green', 5), ('<b>fig</b>', NULL)",
               "-a", APP)
    return server


@pytest.fixture(scope="module")
def page(browser: Any, db_app: HoistServer) -> Iterator[Any]:
    pg = login(browser, db_app)
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=db_app.url)
    yield pg
    pg.context.close()


def _get(url: str) -> httpx.Response:
    return httpx.get(url.replace("localhost", "127.0.0.1"), timeout=30)  # no token: the URL is the secret


def test_database_facts(page: Any, db_app: HoistServer, shots: Path) -> None:
    page.goto(f"{db_app.url}/dashboard/apps/{APP}/data")
    card = "section[data-addon^='postgresql-']"
    assert page.inner_text(f"{card} [data-fact=version]").startswith("PostgreSQL 1")
    assert page.inner_text(f"{card} [data-fact=tables]") == "1"
    assert re.fullmatch(r"\d+\.\d (kB|MB)", page.inner_text(f"{card} [data-fact=size]"))
    assert page.inner_text(f"{card} [data-fact=connections]").isdigit()
    shoot(page, shots, "data")


def test_a_dataclip_runs_saves_and_serves_the_same_csv_as_the_clis(page: Any, db_app: HoistServer,
                                                                     shots: Path) -> None:
    page.fill("#clip-form textarea[name=sql]", "DELETE FROM items")
    page.click("#clip-run")
    assert page.inner_text("#clip-error")  # refused: read-only
    page.fill("#clip-form textarea[name=sql]", SQL)
    page.click("#clip-run")
    assert page.inner_text("#clip-result thead").split() == ["name", "qty"]
    assert "<b>fig</b>" in page.inner_text("#clip-result tbody")  # text, not markup
    assert page.locator("#clip-result b").count() == 0
    assert page.inner_text("#clip-count") == "3 rows"
    assert page.input_value("#clip-form textarea[name=sql]") == SQL  # the query stays in the box
    page.fill("#clip-form input[name=name]", "stock")
    page.click("#clip-save")
    assert "Saved dataclip 'stock'" in flash(page)
    clip = page.locator("[data-clip='stock']")
    urls = {k: clip.locator(f"input[data-kind={k}]").input_value() for k in ("html", "csv", "json", "formula")}
    assert urls["formula"] == f'=IMPORTDATA("{urls["csv"]}")' and urls["csv"] == urls["html"] + ".csv"
    clip.locator("button[data-copy$='-formula']").click()
    assert page.evaluate("navigator.clipboard.readText()") == urls["formula"]
    shoot(page, shots, "data-dataclip")

    out = db_app.cli("dataclips:create", "stock-cli", "--query", SQL, "-a", APP).stdout
    cli_csv = re.search(r"CSV:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    ours, theirs = _get(urls["csv"]), _get(cli_csv)
    assert ours.status_code == theirs.status_code == 200
    assert ours.text == theirs.text and ours.text.splitlines()[:3] == ["name,qty", "apple,3", '"pear, green",5']
    assert _get(urls["json"]).json()["fields"] == ["name", "qty"]
    api = {c["name"]: c for c in db_app.api("GET", f"/apps/{APP}/dataclips").json()}
    assert api["stock"]["sql"] == SQL and api["stock"]["csv_url"] == urls["csv"]

    page.once("dialog", lambda d: d.accept())
    clip.locator("button:text('Delete')").click()
    assert "Deleted dataclip 'stock'" in flash(page)
    assert _get(urls["csv"]).status_code == 404
    assert [c["name"] for c in db_app.api("GET", f"/apps/{APP}/dataclips").json()] == ["stock-cli"]


def test_backups_capture_download_and_restore_with_confirmation(page: Any, db_app: HoistServer,
                                                                shots: Path) -> None:
    page.goto(f"{db_app.url}/dashboard/apps/{APP}/data")
    page.click("button:text('Capture backup')")
    assert re.search(r"Captured backup b001 of postgresql-\S+ \(", flash(page))
    assert "completed" in page.inner_text("#backups tr[data-backup=b001]")
    with page.expect_download() as dl:
        page.click("#backups tr[data-backup=b001] a:text('Download')")
    path = dl.value.path()
    assert path and Path(path).read_bytes()[:5] == b"PGDMP"
    db_app.cli("pg:psql", "-c", "DELETE FROM items", "-a", APP)
    row = "#backups tr[data-backup=b001]"
    page.click(f"{row} summary")
    page.fill(f"{row} input[name=confirm]", "wrong")
    page.click(f"{row} button:text('Restore b001')")
    assert "type the app's name, datadash, to confirm. Nothing was restored." in flash(page)
    assert "(0 rows)" in db_app.cli("pg:psql", "-c", "SELECT * FROM items", "-a", APP).stdout
    page.click(f"{row} summary")
    page.fill(f"{row} input[name=confirm]", APP)
    page.click(f"{row} button:text('Restore b001')")
    assert "Restored b001 into postgresql-" in flash(page)
    assert "(3 rows)" in db_app.cli("pg:psql", "-c", "SELECT * FROM items", "-a", APP).stdout
    form = "section[data-addon^='postgresql-'] form.schedule"
    page.fill(f"{form} input[name=at]", "25:00")
    page.click(f"{form} button:text('Schedule')")
    assert "HH:MM" in flash(page) or "25:00" in flash(page)
    page.fill(f"{form} input[name=at]", "02:30")
    page.fill(f"{form} input[name=keep]", "3")
    page.click(f"{form} button:text('Schedule')")
    assert "Scheduled daily backups of postgresql-" in flash(page)
    assert page.inner_text("[data-fact=schedule]") == "daily at 02:30 UTC, keeping 3"
    sched = db_app.api("GET", f"/apps/{APP}/addons/DATABASE_URL/pg/backup-schedule").json()
    assert (sched["at"], sched["keep"]) == ("02:30", 3)
    shoot(page, shots, "data-backups")
    page.click(f"{form} button:text('Remove schedule')")
    assert "Removed the backup schedule" in flash(page)
    assert db_app.api("GET", f"/apps/{APP}/addons/DATABASE_URL/pg/backup-schedule").status_code == 404


def test_rotate_credentials(page: Any, db_app: HoistServer) -> None:
    before = db_app.api("GET", f"/apps/{APP}/config-vars").json()["DATABASE_URL"]
    page.once("dialog", lambda d: d.accept())
    page.click("button:text('Rotate credentials')")
    assert "Rotated the credentials of postgresql-" in flash(page)
    after = db_app.api("GET", f"/apps/{APP}/config-vars").json()["DATABASE_URL"]
    assert after != before and after.startswith("postgres://")
    assert "(3 rows)" in db_app.cli("pg:psql", "-c", "SELECT * FROM items", "-a", APP).stdout


def test_the_data_tab_fits_a_phone(browser: Any, db_app: HoistServer, shots: Path) -> None:
    pg = login(browser, db_app, viewport=PHONE)
    try:
        pg.goto(f"{db_app.url}/dashboard/apps/{APP}/data")
        fits(pg)
        shoot(pg, shots, "data-phone")
    finally:
        pg.context.close()
