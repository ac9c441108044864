"""Run a process of a release once and wait for it: the release phase and
app.json's postdeploy script. Output goes to the app's log and, indented,
to the pusher."""
from __future__ import annotations

import asyncio
import signal
from typing import Callable

from hoist.contracts.release import RunRelease
from hoist.dynos.scheduler import Scheduler
from hoist.dynos.spawn import spawn
from hoist.logs.store import LogStore
from hoist.logs.line import PLATFORM


def exit_status(rc: int) -> str:
    """How the logs show an exit: `3`, or `137 (killed by signal 9)`."""
    return str(rc) if rc >= 0 else f"{128 - rc} (killed by signal {-rc})"


async def run_once(
    scheduler: Scheduler, logs: LogStore, app: str, release: RunRelease, name: str, command: str,
    out: Callable[[str], None], timeout: float = 3600.0,
) -> int:
    """Run `command` as dyno `name`; return its exit status (killed after `timeout`)."""
    logs.emit(app, PLATFORM, name, f"Starting process with command `{command}`")

    def line(text: str) -> None:
        logs.emit(app, "app", name, text)
        out("       " + text)

    proc = await spawn(scheduler, app, release, name, command, line)
    try:
        rc = await asyncio.wait_for(proc.wait(), timeout=timeout)
    except asyncio.TimeoutError:
        proc.signal(signal.SIGKILL)
        rc = await proc.wait()
        logs.emit(app, PLATFORM, name, f"Process ran longer than {timeout:g} s and was killed")
    logs.emit(app, PLATFORM, name, f"Process exited with status {exit_status(rc)}")
    return rc
