"""What the supervisor knows about a running app and its dynos."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hoist.dynos.scheduler import DynoProcess
from hoist.logs.line import now_iso


@dataclass(frozen=True)
class RunRelease:
    """An immutable release as the supervisor runs it."""
    id: str
    version: int
    process_types: dict[str, str]
    slug_dir: Path
    env_dir: Path | None
    config: dict[str, str] = field(repr=False)
    health_path: str | None = None  # from app.json: ready means it answers 2xx/3xx


@dataclass
class Dyno:
    app: str
    type: str
    number: int
    release: RunRelease
    port: int | None = None
    proc: DynoProcess | None = None
    state: str = "starting"  # starting | up | crashed | idle | down
    state_since: str = field(default_factory=now_iso)
    started_mono: float = 0.0
    crashes: int = 0
    next_start: float = 0.0
    stopping: bool = False
    retired: bool = False  # removed from its app's dynos: never started again, whatever still refers to it
    id: str = ""
    memory_mb: float | None = None  # resident memory of the process group, sampled
    r14_at: float = -1e9  # when R14 was last logged (it repeats while over quota)

    @property
    def name(self) -> str:
        return f"{self.type}.{self.number}"

    @property
    def command(self) -> str:
        return self.release.process_types.get(self.type, "")


@dataclass
class AppRuntime:
    name: str
    release: RunRelease | None = None
    formation: dict[str, int] = field(default_factory=dict)
    dynos: dict[str, Dyno] = field(default_factory=dict)
    sleep: bool = False  # ps:sleep on: web dynos stop when idle
    asleep: bool = False  # web dynos are idle now; the router wakes the app
    last_request: float = 0.0  # monotonic time of the last routed request (or start)
