"""The scheduler interface: where dynos run. `LocalScheduler` (processes on
this machine, each under a shim and in its own cgroup) is the one
implementation today; a Kubernetes one fits the same shape later."""
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
    release: str = ""  # the release's id: a restarted hoist adopts a dyno only into the release it runs
    id: str = ""  # the dyno's id (made up when empty)
    formation: bool = False  # one of the formation's dynos (the supervisor's), not a one-off or a release phase


class DynoProcess(Protocol):
    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None:
        """None while running; the exit status (negative: killed by that signal) after."""

    async def wait(self) -> int: ...

    async def closed(self) -> None:
        """Once the dyno has exited and nothing of it is left (what it started killed, its cgroup removed)."""

    def signal(self, signum: int) -> None:
        """Send a signal to the whole dyno: every process in its cgroup (else its process group)."""

    def usage(self) -> tuple[int, int] | None:
        """(bytes the whole dyno uses, processes the kernel killed in it at its memory limit), or None
        where the dyno is only a process group (its memory is then measured from /proc). Blocking reads."""


@dataclass(frozen=True)
class Survivor:
    """A dyno a previous hoist started that still runs, reconnected: the supervisor adopts or stops it."""
    app: str
    name: str  # web.1
    release: str  # the release id it runs
    port: int | None
    id: str
    proc: DynoProcess
    since: str = ""  # when it started (ISO 8601), if known


class Scheduler(Protocol):
    async def spawn(self, spec: DynoSpec, on_line: Callable[[str], None],
                    on_dropped: Callable[[int], None] | None = None) -> DynoProcess:
        """Start a dyno; `on_line` receives each line it writes to stdout/stderr, `on_dropped` how many
        lines were dropped (over the log rate, or while hoist was away)."""
        ...

    async def spawn_attached(self, spec: DynoSpec, *, tty: bool, rows: int = 24, cols: int = 80) -> Any:
        """Start a one-off dyno with raw stdin/output descriptors (a pty when `tty`) for a client to drive."""
        ...

    async def recover(self, sink: Callable[[str, str], tuple[Callable[[str], None], Callable[[int], None]]]
                      ) -> list[Survivor]:
        """After a restart of hoist: the dynos a previous hoist left running, reconnected (`sink(app, dyno)`
        gives the callbacks for each one's lines); whatever of them cannot be reconnected is stopped."""
        ...

    async def forget_app(self, app: str) -> None:
        """The app is destroyed: stop whatever is left of it (one-offs, leftovers) and forget its place."""
        ...

    def rename(self, old: str, new: str) -> None:
        """The app is called `new` from now on: what the scheduler keeps by name (records of running dynos,
        guards) follows, and its running dynos go on as they are."""
        ...

    async def close(self) -> None:
        """hoist stops: kill whatever dyno is still running and wait until each is cleaned up."""
        ...

    def cleanup_orphans(self) -> int:
        """Stop every dyno left running by a previous hoist that died; return how many."""
        ...
