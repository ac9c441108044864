"""Timestamps of a push's phases inside a `hoist server`, for bench/redeploy_phases.py only.

Python imports this module at start-up when its folder is on PYTHONPATH. It does something only in a
process started as `hoist server` with HOIST_BENCH_PHASES set (a file): then it wraps the functions a
push goes through and appends one JSON line {"t": unix time, "ev": name} per event to that file. The
wrappers call the originals unchanged; nothing of hoist's behaviour differs. Other Python processes
with this folder on their path (the CLI) load it and do nothing."""
from __future__ import annotations

import functools
import json
import os
import sys
import time
from typing import Any, Callable

_PATH = os.environ.get("HOIST_BENCH_PHASES", "")


def mark(ev: str) -> None:
    with open(_PATH, "a", encoding="utf-8") as f:
        f.write(json.dumps({"t": time.time(), "ev": ev}) + "\n")


def _around(owner: Any, name: str, ev: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kw: Any) -> Any:
        mark(f"{ev}.start")
        try:
            return await original(*args, **kw)
        finally:
            mark(f"{ev}.end")
    setattr(owner, name, wrapper)


def _before(owner: Any, name: str, ev: str, when: Callable[..., bool] = lambda *a, **k: True) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kw: Any) -> Any:
        if when(*args, **kw):
            mark(ev)
        return original(*args, **kw)
    setattr(owner, name, wrapper)


def _install() -> None:
    import asyncio

    from hoist.api import git_http
    from hoist.dynos import boot, lifecycle, supervisor
    from hoist.platform import pipeline, releases

    original_git = git_http.serve_git

    async def serve_git(request: Any, app: str, rest: str, *args: Any, **kw: Any) -> Any:
        mark(f"git.{rest}")
        return await original_git(request, app, rest, *args, **kw)
    git_http.serve_git = serve_git

    original_run = pipeline.Pushes.run

    def run(self: Any, *args: Any, **kw: Any) -> Any:
        mark("hook.connected")
        return original_run(self, *args, **kw)
    pipeline.Pushes.run = run  # type: ignore[method-assign]

    _around(pipeline, "unpack", "unpack")
    original_builder = pipeline.run_builder

    async def run_builder(*args: Any, **kw: Any) -> Any:
        args = list(args)
        emit = args[-1]
        first = [True]

        def timed(line: str) -> None:
            if first[0]:
                mark("builder.first_line")
                first[0] = False
            if "Reusing virtualenv" in line or "Installing dependencies" in line:
                mark("builder.env_decided")
            if "Build finished in" in line:
                mark("builder.last_line")
            emit(line)
        args[-1] = timed
        mark("builder.start")
        try:
            return await original_builder(*args, **kw)
        finally:
            mark("builder.end")
    pipeline.run_builder = run_builder

    original_exec = asyncio.create_subprocess_exec

    async def create_subprocess_exec(*args: Any, **kw: Any) -> Any:
        if "hoist.builder" in args:
            mark("builder.exec")
        return await original_exec(*args, **kw)
    asyncio.create_subprocess_exec = create_subprocess_exec  # type: ignore[assignment]

    _before(pipeline.Pushes, "_record_slug", "record.start")
    _around(releases.Releases, "release", "release")
    _around(supervisor.Supervisor, "deploy", "supervisor.deploy")
    _around(lifecycle.Lifecycle, "start", "dyno.spawn")
    _around(lifecycle.Lifecycle, "_probe", "dyno.probe")  # ends when the dyno answers (Ready is posted)
    _before(boot.Boots, "_switch", "switch")
    _around(lifecycle.Lifecycle, "_stop", "old.stop")


if _PATH and "server" in sys.argv[1:3]:
    _install()
