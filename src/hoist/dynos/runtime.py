"""What the supervisor knows about a running app and its dynos.

Only the supervisor's loop changes a dyno (its state, its process) or an
app's set of dynos; everything else reads them. An app's desired state
(release, formation, sleep) is written by the supervisor's public methods
and read by the loop on every pass."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from hoist.contracts.release import RunRelease
from hoist.dynos.scheduler import DynoProcess
from hoist.logs.line import now_iso

TAIL_LINES = 200  # a dyno's last lines of output, kept to say why it failed to boot (two gunicorn workers' tracebacks fit)


class DynoState(StrEnum):
    """A dyno's one lifecycle state; the values are Heroku's words, as `ps` and the API show them.

    The state changes when the loop decides (a stop sets DOWN or IDLE at once, as on Heroku); a
    process that is still exiting after that decision is the dyno's `proc` in DOWN or IDLE."""
    STARTING = "starting"  # spawned; a web dyno does not answer HTTP on its port yet
    UP = "up"  # running (a web dyno: answering, so routed)
    CRASHED = "crashed"  # exited on its own; starts again when its backoff delay is over
    IDLE = "idle"  # a sleeping app's web dyno: no process until a request wakes the app
    DOWN = "down"  # stopped (ps:stop, or left the formation); the formation starts it again if it wants it

    @property
    def stopped(self) -> bool:
        """DOWN or IDLE: the loop decided this dyno does not run now."""
        return self in (DynoState.DOWN, DynoState.IDLE)


@dataclass(eq=False)
class Dyno:
    app: str
    type: str
    number: int
    release: RunRelease
    port: int | None = None
    proc: DynoProcess | None = None
    state: DynoState = DynoState.STARTING
    state_since: str = field(default_factory=now_iso)
    started_mono: float = 0.0
    crashes: int = 0
    next_start: float = 0.0
    id: str = ""
    memory_mb: float | None = None  # memory of the whole dyno (its cgroup, else its process group), sampled
    oom_kills: int = 0  # processes the kernel killed in the dyno at its memory limit, as last sampled
    r14_at: float = -1e9  # when R14 was last logged (it repeats while over quota)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))  # its process's last lines

    @property
    def name(self) -> str:
        return f"{self.type}.{self.number}"

    @property
    def endpoint(self) -> tuple[str, int] | None:
        """(host, port) where the router reaches this web dyno: its process's own endpoint when it has one
        (a swarm dyno: the node address and published port of a task that answered), else 127.0.0.1."""
        if self.proc is not None and hasattr(self.proc, "endpoint"):
            ep: tuple[str, int] | None = self.proc.endpoint
            return ep
        return ("127.0.0.1", self.port) if self.port else None

    @property
    def command(self) -> str:
        return self.release.process_types.get(self.type, "")


@dataclass
class AppRuntime:
    name: str
    # Desired state: written by the supervisor's public methods, read by the loop.
    release: RunRelease | None = None
    formation: dict[str, int] = field(default_factory=dict)
    sleep: bool = False  # ps:sleep on: web dynos stop when idle
    asleep: bool = False  # web dynos are idle now; the router wakes the app
    last_request: float = 0.0  # monotonic time of the last routed request (or start)
    # The loop's own: the dynos of the current release (the routed ones among them).
    dynos: dict[str, Dyno] = field(default_factory=dict)
