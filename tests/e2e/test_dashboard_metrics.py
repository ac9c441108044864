"""The metrics and activity tabs in Debian's Chromium against a live hoist with examples/hello
pushed: requests, errors, memory and a restart drawn as charts from hoist's time-series table, and
the same history shown after hoist itself restarts (the rows are in SQLite, not in the log buffer);
then builds, a running build's log streamed live, each build's full log, and the activity feed."""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e.browser import PHONE, fits, launch, login, shoot, shots_dir
from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture(scope="module")
def shots() -> Path:
    return shots_dir("dashboard-metrics")


@pytest.fixture(scope="module")
def deployed(server: HoistServer, workdir: Path) -> HoistServer:
    repo = make_repo(workdir / "hello", example_files("hello"), server.env())
    server.cli("apps:create", "hello", cwd=repo)
    server.push(repo)
    assert server.app_get("hello").text.startswith("Hello from hoist")
    return server


def _totals(page: Any) -> dict[str, str]:
    return {el.get_attribute("data-total"): el.inner_text() for el in page.query_selector_all("#c-totals [data-total]")}


def _wait_total(page: Any, key: str, text: str, timeout: float = 30) -> None:
    """The recorder writes every 5 s and the fragment refreshes every 3 s."""
    deadline = time.monotonic() + timeout
    while _totals(page).get(key) != text:
        assert time.monotonic() < deadline, f"{key} never showed {text!r}: {_totals(page)}"
        page.wait_for_timeout(500)


def _rows(home: Path) -> list[tuple[int, int, int, str]]:
    with sqlite3.connect(home / "hoist.db") as db:
        return db.execute("SELECT step, requests, s4xx, memory FROM metric_points ORDER BY step, at").fetchall()


def test_requests_memory_and_restarts_are_charted(browser: Any, deployed: HoistServer, shots: Path) -> None:
    for _ in range(6):
        assert deployed.app_get("hello").status_code == 200
    for _ in range(3):
        assert deployed.app_get("hello", "/missing").status_code == 404
    page = login(browser, deployed)
    try:
        page.goto(f"{deployed.url}/dashboard/apps/hello/charts")
        # once web.1's memory is charted the recorder has seen its process: a new one is a restart
        page.wait_for_selector("#c-memory polyline[data-series='web.1']", state="attached", timeout=30_000)
        before = deployed.api("GET", "/apps/hello/dynos/web.1").json()["created_at"]
        assert deployed.api("DELETE", "/apps/hello/dynos/web.1").status_code == 200  # restart web.1
        deadline = time.monotonic() + 30
        while deployed.api("GET", "/apps/hello/dynos/web.1").json().get("created_at", before) == before:
            assert time.monotonic() < deadline, "web.1 did not restart"
            time.sleep(0.3)
        _wait_total(page, "restarts", "restarts: 1")
        totals = _totals(page)
        assert totals["requests"].startswith(("9 ", "10 ", "11 "))  # the 9 and the push's own check
        assert totals["s4xx"] == "4xx: 3" and totals["s5xx"] == "5xx: 0"
        assert page.locator("#c-latency polyline[data-series='p95']").count() >= 1
        assert page.locator("#c-throughput polyline[data-series='2xx']").count() >= 1
        assert page.locator("#c-memory line.quota").count() == 1
        shoot(page, shots, "metrics-1h")
        page.click("nav.windows a:text('24h')")
        page.wait_for_url("**/charts?range=24h")
        assert _totals(page)["s4xx"] == "4xx: 3" and "one point per 10 min" in page.inner_text("#c-totals")
        page.click("nav.windows a:text('7d')")
        assert _totals(page)["s4xx"] == "4xx: 3"
        shoot(page, shots, "metrics-7d")
    finally:
        page.context.close()


def test_metrics_survive_a_restart_of_hoist(browser: Any, deployed: HoistServer, shots: Path) -> None:
    assert deployed.stop() == 0
    rows = _rows(deployed.home)
    assert {r[0] for r in rows} == {60, 600} and sum(r[2] for r in rows if r[0] == 60) == 3
    assert any('"web.1"' in r[3] for r in rows)
    deployed.start()
    page = login(browser, deployed, viewport=PHONE)
    try:
        page.goto(f"{deployed.url}/dashboard/apps/hello/charts?range=24h")
        assert _totals(page)["s4xx"] == "4xx: 3"
        assert page.locator("#c-memory polyline[data-series='web.1']").count() >= 1
        fits(page)
        shoot(page, shots, "metrics-after-restart-phone")
        deployed.wait_for("hello", "Hello from hoist", timeout=60)  # web.1 is up again
        assert deployed.app_get("hello", "/missing").status_code == 404  # hoist records again
        _wait_total(page, "s4xx", "4xx: 4")
    finally:
        page.context.close()


def test_a_running_build_streams_live_then_its_log_stays(browser: Any, deployed: HoistServer, workdir: Path,
                                                         shots: Path) -> None:
    repo = workdir / "hello"
    commit_files(repo, {"README.md": "second push\n"}, deployed.env(), "second")
    pushed: list[Any] = []
    pusher = threading.Thread(target=lambda: pushed.append(deployed.push(repo)))
    page = login(browser, deployed)
    try:
        pusher.start()
        deadline = time.monotonic() + 60
        while True:
            running = [b for b in deployed.api("GET", "/apps/hello/builds").json() if b["status"] == "pending"]
            if running:
                break
            assert time.monotonic() < deadline and pusher.is_alive(), "the second build never started"
            time.sleep(0.1)
        build = running[0]["id"]
        page.goto(f"{deployed.url}/dashboard/apps/hello/builds/{build}")
        assert page.inner_text("#build-status") == "running"
        assert page.get_attribute("#build-log", "data-stream")  # the page is following the build
        page.wait_for_selector("#build-log:has-text('Build succeeded')", timeout=120_000)
        deadline = time.monotonic() + 60
        while not re.fullmatch(r"succeeded in \d+s", page.inner_text("#build-status")):
            assert time.monotonic() < deadline, f"status: {page.inner_text('#build-status')!r}"
            page.wait_for_timeout(300)
        live = page.inner_text("#build-log")
        pusher.join(120)
        assert pushed and pushed[0].returncode == 0
        output = deployed.api("GET", f"/apps/hello/builds/{build}/output").text
        assert live.strip() == output.strip()  # streamed: every line, once, in order
        page.reload()  # a finished build: its full log, no stream
        assert page.inner_text("#build-log").strip() == output.strip()
        assert page.get_attribute("#build-log", "data-stream") is None
        shoot(page, shots, "build")

        page.goto(f"{deployed.url}/dashboard/apps/hello/activity")
        rows = page.locator("#builds tbody tr")
        assert rows.count() == 2
        assert "succeeded" in rows.nth(0).inner_text() and "admin@hoist.local" in rows.nth(0).inner_text()
        assert page.locator(f"#builds tr[data-build='{build}'] a").count() == 1
        feed = page.inner_text("#feed")
        assert "admin@hoist.local" in feed and "v3 succeeded: Deploy" in feed and "Created app hello" in feed
        assert page.locator("#feed li").first.get_attribute("data-action") == "release"  # newest first
        shoot(page, shots, "activity")
    finally:
        page.context.close()
