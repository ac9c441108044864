"""The scheduler interface: where dynos run. `LocalScheduler` (processes on
this machine) is the one implementation today; a Kubernetes one fits the
same shape later."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol


@dataclass(frozen=True)
class DynoSpec:
    app: str
    name: str  # web.1, worker.2, release.1, run.4821
    command: str  # a Procfile command line, run by bash as Heroku does
    cwd: Path
    env: dict[str, str] = field(repr=False)  # holds secrets: never logged


class DynoProcess(Protocol):
    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None:
        """None while running; the exit status (negative: killed by that signal) after."""

    async def wait(self) -> int: ...

    def signal(self, signum: int) -> None:
        """Send a signal to the dyno's whole process group."""


class Scheduler(Protocol):
    async def spawn(self, spec: DynoSpec, on_line: Callable[[str], None]) -> DynoProcess:
        """Start a dyno; `on_line` receives each line it writes to stdout/stderr."""
        ...

    async def spawn_attached(self, spec: DynoSpec, *, tty: bool, rows: int = 24, cols: int = 80) -> Any:
        """Start a one-off dyno with raw stdin/output descriptors (a pty when `tty`) for a client to drive."""
        ...

    def cleanup_orphans(self) -> int:
        """Stop dynos left running by a previous hoist that died; return how many."""
        ...
