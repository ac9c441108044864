"""Fuzz hoist's API with schemathesis against its own OpenAPI description:
no 5xx and no crash, whatever the bodies, names and headers."""
from __future__ import annotations

import os
import subprocess
import sys

from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[HoistServer]:
    # The fuzz sends more than the default 4500 requests an hour: with the default limit its second half
    # would only see 429s (and so would the check after it). The rate limit has tests of its own.
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user", extra_env={"HOIST_RATE_LIMIT": "1000000"})
    srv.start()
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()
    remove_app_users(workdir)


def test_schemathesis_finds_no_server_errors(server: HoistServer) -> None:
    server.cli("apps:create", "fuzz-app")
    st = os.path.join(os.path.dirname(sys.executable), "st")
    proc = subprocess.run(
        [st, "run", f"{server.url}/openapi.json", "--url", server.url, "--checks", "not_a_server_error",
         "--max-examples", "25", "--header", f"Authorization: Bearer {server.token}",
         "--exclude-method", "DELETE", "--request-timeout", "20", "--max-time", "150", "--workers", "1",
         "--suppress-health-check", "all", "--seed", "8"],
        capture_output=True, text=True, timeout=600, env={**server.env(), "HOIST_API_KEY": ""},
    )
    tail = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 0, tail
    assert server.proc is not None and server.proc.poll() is None, "the server crashed"
    assert server.api("GET", "/apps/fuzz-app").status_code == 200
