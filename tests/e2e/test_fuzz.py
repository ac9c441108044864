"""Fuzz hoist's API with schemathesis against its own OpenAPI description:
no 5xx and no crash, whatever the bodies, names and headers."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.e2e.harness import HoistServer


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
