from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class BuildRun:
    returncode: int
    output: str
    result: dict[str, Any] | None
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.lines if ln.startswith(" !     ") and "Warning:" not in ln]


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uv cache for the whole session, so each package is downloaded once."""
    return tmp_path_factory.mktemp("uv-cache")


def write_app(root: Path, files: dict[str, str]) -> Path:
    """Create a small app tree from {relative path: content}."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


BuildFn = Callable[..., BuildRun]


@pytest.fixture
def run_build(uv_cache: Path, tmp_path: Path) -> BuildFn:
    """Run `python -m hoist.builder` for real, as the server does."""

    def run(source: Path, app_home: Path | None = None, previous: dict[str, Any] | None = None,
            env: dict[str, str] | None = None, timeout: float | None = None) -> BuildRun:
        app_home = app_home or tmp_path / "home"
        result_file = tmp_path / f"result-{time.monotonic_ns()}.json"
        argv = [sys.executable, "-m", "hoist.builder", "--source", str(source), "--app-home", str(app_home),
                "--uv-cache", str(uv_cache), "--result", str(result_file)]
        if previous is not None:
            prev_file = tmp_path / f"previous-{time.monotonic_ns()}.json"
            prev_file.write_text(json.dumps(previous))
            argv += ["--previous", str(prev_file)]
        if timeout is not None:
            argv += ["--timeout", str(timeout)]
        base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
                "PYTHONPATH": str(SRC)}
        # The machine's TLS/proxy settings are part of the host, not of hoist: keep them.
        base.update({k: v for k, v in os.environ.items() if k.startswith(("SSL_CERT_", "HTTP_PROXY", "HTTPS_PROXY",
                                                                          "NO_PROXY", "http_proxy", "https_proxy",
                                                                          "no_proxy"))})
        started = time.monotonic()
        proc = subprocess.run(argv, env={**base, **(env or {})}, capture_output=True, text=True, timeout=300)
        seconds = time.monotonic() - started
        assert proc.stderr == "", proc.stderr
        result = json.loads(result_file.read_text()) if result_file.exists() else None
        assert (proc.returncode == 0) == (result is not None), proc.stdout
        return BuildRun(proc.returncode, proc.stdout, result, seconds)

    return run
