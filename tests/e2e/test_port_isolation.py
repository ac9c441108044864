"""Dyno ports are guarded (root, nftables): app A's one-off dyno cannot connect to app B's web
dyno port (it would bypass the router), but reaches its own; the router serves both apps; the
server's nftables table is gone once it stops."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hoist.dynos.firewall import table_name
from tests.e2e.harness import HoistServer, make_repo

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None,
                                reason="needs root and nft (apt-get install nftables)")

APP_FILES = {"requirements.txt": "", ".python-version": "3.12\n", "Procfile": "web: python -m http.server $PORT\n"}
PROBE = ("import socket, sys\n"
         "for port in sys.argv[1:]:\n"
         "    try:\n"
         "        socket.create_connection(('127.0.0.1', int(port)), timeout=5).close(); print(port, 'connected')\n"
         "    except OSError as e: print(port, type(e).__name__)\n")


def _table(server: HoistServer) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nft", "list", "table", "inet", table_name(server.home)], capture_output=True, text=True)


def _web_port(server: HoistServer, app: str) -> int:
    routes = json.loads((server.home / "router" / "routes.json").read_text())
    return int(routes["apps"][app]["backends"][0]["addr"].rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def apps(server: HoistServer, workdir: Path) -> tuple[str, str]:
    for name in ("port-a", "port-b"):
        repo = make_repo(workdir / name, APP_FILES, server.env())
        server.cli("apps:create", name, cwd=repo)
        assert "Released" in server.push(repo).stderr
    return "port-a", "port-b"


def test_startup_says_ports_are_guarded(server: HoistServer) -> None:
    assert any("dyno ports are guarded" in line for line in server.output), server.output
    assert _table(server).returncode == 0


def test_an_apps_dyno_cannot_reach_another_apps_web_port(server: HoistServer, apps: tuple[str, str]) -> None:
    a, b = apps
    port_a, port_b = _web_port(server, a), _web_port(server, b)
    listed = _table(server).stdout
    assert str(port_a) in listed and str(port_b) in listed
    assert server.cli("run", "-a", a, "id -un").stdout.strip() == "hoist-port-a"  # not hoist's root
    out = server.cli("run", "-a", a, "python", "-c", PROBE, str(port_b), str(port_a)).stdout
    assert f"{port_b} ConnectionRefusedError" in out, out
    assert f"{port_a} connected" in out, out
    # hoist's own router still reaches both
    assert server.app_get(a).status_code == 200
    assert server.app_get(b).status_code == 200
    assert not any("firewall:" in line for line in server.output), server.output


def test_a_restarted_dyno_gets_a_guarded_port_and_the_old_one_is_released(
        server: HoistServer, apps: tuple[str, str]) -> None:
    _, b = apps
    old = _web_port(server, b)
    server.cli("ps:restart", "-a", b)
    server.wait_for(b, "Directory listing")
    new = _web_port(server, b)
    assert new != old
    deadline = time.monotonic() + 30  # the old dyno's port is released once it has exited
    while f"{old} ." in _table(server).stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    listed = _table(server).stdout
    assert f"{new} ." in listed and f"{old} ." not in listed


def test_the_table_is_gone_after_the_server_stops(server: HoistServer, apps: tuple[str, str]) -> None:
    assert server.stop() == 0
    assert _table(server).returncode != 0
    assert table_name(server.home) not in subprocess.run(["nft", "list", "tables"], capture_output=True,
                                                         text=True).stdout
