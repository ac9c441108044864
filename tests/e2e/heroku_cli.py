"""The real `heroku` CLI (from npm, pinned in .ci/run) pointed at a live hoist."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.e2e.harness import REPO, HoistServer

HEROKU_VERSION = "11.10.0"  # keep in step with .ci/run


def heroku_bin() -> Path | None:
    """The CLI installed by .ci/run (or named by HOIST_TEST_HEROKU_CLI)."""
    named = os.environ.get("HOIST_TEST_HEROKU_CLI")
    candidates = [Path(named)] if named else []
    candidates.append(REPO / ".ci" / "node" / "node_modules" / ".bin" / "heroku")
    return next((p for p in candidates if p.exists()), None)


def heroku_env(server: HoistServer, home: Path, git_host: str | None = None) -> dict[str, str]:
    """What a user sets to drive hoist with the heroku CLI (README: Using the heroku CLI)."""
    env = server.env()
    for noisy in ("SSL_CERT_FILE", "SSL_CERT_DIR"):  # the CLI warns about these on every command
        env.pop(noisy, None)
    binary = heroku_bin()
    assert binary is not None
    env.update({
        "HOME": str(home),
        "PATH": f"{binary.parent}:{env.get('PATH', '/usr/bin:/bin')}",  # git's credential helper runs `heroku`
        "HEROKU_HOST": f"http://127.0.0.1:{server.port}",
        "HEROKU_PARTICLEBOARD_URL": f"http://127.0.0.1:{server.port}",
        "HEROKU_DATA_HOST": "127.0.0.1",  # pg:info, pg:backups... (the Postgres data API) go to hoist too
        "HEROKU_API_KEY": server.token,
        "HEROKU_DISABLE_AUTOUPDATE": "1",
        "HEROKU_SKIP_NEW_VERSION_CHECK": "true",
        "DISABLE_TELEMETRY": "true",
        "NODE_EXTRA_CA_CERTS": str(server.home / "tls" / "ca.pem"),
        "GIT_SSL_CAINFO": str(server.home / "tls" / "ca.pem"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    })
    if git_host:
        env["HEROKU_GIT_HOST"] = git_host
    return env


class Heroku:
    def __init__(self, server: HoistServer, home: Path, git_host: str | None = None) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.env = heroku_env(server, home, git_host)
        binary = heroku_bin()
        assert binary is not None
        self.binary = str(binary)

    def __call__(self, *args: str, check: bool = True, cwd: Path | None = None, input: str | None = None,
                 timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([self.binary, *args], env={**self.env, **(env or {})}, cwd=cwd, input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"heroku {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([self.binary, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


def have_git() -> bool:
    return shutil.which("git") is not None
