"""Benchmark: hoist build vs `python -m venv` + `pip install -r requirements.txt`.

Prints side-by-side medians and ratios for a Flask + Flask-SQLAlchemy + psycopg[binary] +
gunicorn app: cold caches, warm caches, code-only rebuild, one-dependency change.
Usage: python bench/build.py [--runs N] [--python /path/to/python3.12]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

SRC = Path(__file__).resolve().parents[1] / "src"
REQUIREMENTS = "flask\nflask-sqlalchemy\npsycopg[binary]\ngunicorn\n"
EXTRA_DEP = "python-dotenv\n"


def make_app(root: Path) -> Path:
    """The benchmark app: a Flask app with a database layer, as in the tutorials."""
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text(REQUIREMENTS)
    (root / "Procfile").write_text("web: gunicorn app:app\n")
    (root / ".python-version").write_text("3.12\n")
    (root / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    return root


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"benchmark step failed: {' '.join(argv)}\n{proc.stdout}\n{proc.stderr}")
    return proc


class Hoist:
    """Runs `python -m hoist.builder` as the server does."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = dict(os.environ, PYTHONPATH=str(SRC))

    def build(self, app: Path, home: Path, cache: Path, previous: dict | None) -> dict:
        result = self.work / "result.json"
        argv = [sys.executable, "-m", "hoist.builder", "--source", str(app), "--app-home", str(home),
                "--uv-cache", str(cache), "--result", str(result)]
        if previous is not None:
            prev = self.work / "previous.json"
            prev.write_text(json.dumps(previous))
            argv += ["--previous", str(prev)]
        run(argv, self.env)
        return json.loads(result.read_text())["metadata"]


class Pip:
    """The classic way: a venv and pip, with pip's own cache."""

    def __init__(self, python: str) -> None:
        self.python = python

    def build(self, app: Path, venv: Path, cache: Path, fresh: bool) -> None:
        env = dict(os.environ, PIP_CACHE_DIR=str(cache), PIP_DISABLE_PIP_VERSION_CHECK="1")
        if fresh:
            run([self.python, "-m", "venv", str(venv)], env)
        run([str(venv / "bin" / "pip"), "install", "-q", "-r", str(app / "requirements.txt")], env, cwd=app)


def bench(runs: int, python: str) -> dict[str, tuple[float, float]]:
    """Median seconds per scenario for (hoist, pip)."""
    results: dict[str, tuple[list[float], list[float]]] = {
        k: ([], []) for k in ("cold", "warm", "code-only rebuild", "one-dependency change")
    }
    for i in range(runs):
        work = Path(tempfile.mkdtemp(prefix="hoist-bench-"))
        try:
            hoist, pip = Hoist(work), Pip(python)
            app = make_app(work / "app")
            h_cache, p_cache = work / "uv-cache", work / "pip-cache"
            # cold: empty caches
            meta: dict = {}
            results["cold"][0].append(timed(lambda: meta.update(hoist.build(app, work / "h-cold", h_cache, None))))
            results["cold"][1].append(timed(lambda: pip.build(app, work / "p-cold", p_cache, True)))
            # warm: caches filled, new env
            results["warm"][0].append(timed(lambda: meta.update(hoist.build(app, work / "h", h_cache, None))))
            results["warm"][1].append(timed(lambda: pip.build(app, work / "p", p_cache, True)))
            # code-only rebuild: same requirements, app code changed
            (app / "app.py").write_text("from flask import Flask\napp = Flask('v2')\n")
            prev = dict(meta)
            results["code-only rebuild"][0].append(timed(lambda: meta.update(hoist.build(app, work / "h", h_cache, prev))))
            results["code-only rebuild"][1].append(timed(lambda: pip.build(app, work / "p", p_cache, False)))
            # one-dependency change: add a package (cached by neither yet)
            (app / "requirements.txt").write_text(REQUIREMENTS + EXTRA_DEP)
            prev = dict(meta)
            results["one-dependency change"][0].append(timed(lambda: meta.update(hoist.build(app, work / "h", h_cache, prev))))
            results["one-dependency change"][1].append(timed(lambda: pip.build(app, work / "p", p_cache, False)))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return {k: (statistics.median(h), statistics.median(p)) for k, (h, p) in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default=shutil.which("python3.12") or "/root/.pyenv/versions/3.12.1/bin/python3")
    args = parser.parse_args()
    figures = bench(args.runs, args.python)
    print(f"hoist build vs venv+pip, {args.runs} runs, medians; app: {REQUIREMENTS.strip().replace(chr(10), ', ')}")
    print(f"{'scenario':<24}{'hoist':>10}{'venv+pip':>12}{'pip/hoist':>12}")
    for name, (h, p) in figures.items():
        print(f"{name:<24}{h:>9.2f}s{p:>11.2f}s{p / h:>11.1f}x")


if __name__ == "__main__":
    main()
