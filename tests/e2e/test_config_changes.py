"""Config changes are checked and atomic (issue 18, "Why" 7, as written): a NUL, a 200 KB value and an
environment over what exec accepts are refused with 422 before anything is stored; a value whose release
fails changes nothing and the error names it; a kill -9 of hoist during config:set leaves the stored config
equal to what the current release runs."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.e2e.harness import HoistServer, make_repo

APP = "cfg"
# Like gunicorn, the app reads WEB_CONCURRENCY at boot and exits if it is not a number; BOOT_DELAY holds
# the boot, so a kill of hoist can land while the release runs.
WEB = """import http.server, os, time
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
time.sleep(float(os.environ.get("BOOT_DELAY", "0")))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"workers={workers} mark={os.environ.get('MARK', '')}".encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
http.server.HTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
"""
FILES = {"requirements.txt": "", ".python-version": "3.12\n", "web.py": WEB, "Procfile": "web: python web.py\n"}


def config(server: HoistServer) -> dict[str, str]:
    return server.api("GET", f"/apps/{APP}/config-vars").json()


def current_release_config(server: HoistServer) -> dict[str, str]:
    current = next(r for r in server.api("GET", f"/apps/{APP}/releases").json() if r["current"])
    return server.api("GET", f"/apps/{APP}/releases/{current['version']}/config-vars").json()


def releases(server: HoistServer) -> int:
    return len(server.api("GET", f"/apps/{APP}/releases").json())


def test_a_value_whose_release_fails_changes_nothing_and_is_named(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / APP, FILES, server.env())
    server.cli("apps:create", APP, cwd=repo)
    server.cli("config:set", "WEB_CONCURRENCY=2", "-a", APP)
    server.push(repo)
    assert server.wait_for(APP, "workers=2")

    out = server.cli("config:set", "WEB_CONCURRENCY=notanumber", "-a", APP, check=False)
    assert out.returncode != 0
    assert "WEB_CONCURRENCY set failed, so nothing changed" in out.stderr, out.stderr
    assert server.cli("config:get", "WEB_CONCURRENCY", "-a", APP).stdout.strip() == "2"
    assert config(server) == current_release_config(server)
    assert "workers=2" in server.app_get(APP).text
    # the app can release again, and the refused value did not come back with it
    server.cli("config:set", "MARK=after", "-a", APP)
    assert config(server)["WEB_CONCURRENCY"] == "2" and "mark=after" in server.wait_for(APP, "mark=after").text


def test_nul_and_oversized_values_are_refused_before_anything_is_stored(server: HoistServer) -> None:
    before, count = config(server), releases(server)
    r = server.api("PATCH", f"/apps/{APP}/config-vars", json={"BAD": "a\u0000b"})
    assert r.status_code == 422 and r.json()["id"] == "invalid_params"
    assert "BAD" in r.json()["message"] and "NUL" in r.json()["message"]
    r = server.api("PATCH", f"/apps/{APP}/config-vars", json={"BIG": "x" * 200_000})
    assert r.status_code == 422 and r.json()["id"] == "invalid_params"
    message = r.json()["message"]
    assert "BIG is 200004 bytes" in message and "131071" in message and "MAX_ARG_STRLEN" in message
    assert config(server) == before and releases(server) == count

    # Values that each fit, but not all together: the one that would overflow the environment is refused.
    arg_max = os.sysconf("SC_ARG_MAX")
    chunk = 120_000
    fits = (arg_max - 64 * 1024) // (chunk + 40)
    batches = [{f"PART_{i}": "y" * chunk for i in range(n, min(n + 8, fits))} for n in range(0, fits, 8)]
    for batch in batches:
        r = server.api("PATCH", f"/apps/{APP}/config-vars", json=batch)
        assert r.status_code == 200 and r.headers["Hoist-Release-Status"] == "succeeded", r.headers
    r = server.api("PATCH", f"/apps/{APP}/config-vars", json={"ONE_MORE": "z" * chunk})
    assert r.status_code == 422 and "ARG_MAX" in r.json()["message"] and "PART_" in r.json()["message"]
    assert "ONE_MORE" not in config(server)
    server.api("PATCH", f"/apps/{APP}/config-vars", json={k: None for b in batches for k in b})
    assert config(server) == before and "mark=after" in server.app_get(APP).text


def _dyno_with(mark: str) -> int | None:
    """The pid of a process whose environment holds MARK=`mark` (we are root: we read them all)."""
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and f"MARK={mark}".encode() in (p / "environ").read_bytes().split(b"\0"):
                return int(p.name)
        except OSError:
            pass
    return None


def test_a_kill_of_hoist_during_config_set_leaves_the_config_of_the_current_release(server: HoistServer) -> None:
    done: list[httpx.Response | Exception] = []

    def change() -> None:
        try:
            done.append(server.api("PATCH", f"/apps/{APP}/config-vars", json={"MARK": "killed", "BOOT_DELAY": "8"}))
        except Exception as exc:  # the server dies under it
            done.append(exc)
    worker = threading.Thread(target=change)
    worker.start()
    deadline = time.monotonic() + 30
    while _dyno_with("killed") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _dyno_with("killed") is not None, "the new release's dyno never started"
    server.stop(signal.SIGKILL)  # while the new release boots
    worker.join(30)
    server.start()
    assert config(server) == current_release_config(server)
    assert config(server)["MARK"] == "after" and "BOOT_DELAY" not in config(server)
    assert "mark=after" in server.wait_for(APP, "mark=after").text
    statuses = [r["status"] for r in server.api("GET", f"/apps/{APP}/releases").json()]
    assert statuses[-1] == "failed" and "pending" not in statuses
    leftover = _dyno_with("killed")  # a dyno orphaned by the kill is the restart's to clean up (not this test's)
    if leftover is not None:
        os.kill(leftover, signal.SIGKILL)
