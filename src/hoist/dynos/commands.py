"""What reaches the supervisor's loop: commands from callers, events from its own tasks.

Like honcho's Manager queue and gunicorn's arbiter signals: callers never
change dynos; they queue a command and await its `reply`, which the loop
answers once the command has taken effect. The loop's own tasks (readiness
probes, stops, the memory sampler) report back with events, which have no
reply. Only the loop changes dynos, so no code needs to ask whether a dyno
was replaced while it awaited something."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Generic, TypeVar, Union

from hoist.contracts.release import RunRelease
from hoist.dynos.runtime import Dyno
from hoist.dynos.scheduler import DynoProcess

T = TypeVar("T")


@dataclass(frozen=True)
class DeployResult:
    """How a deploy went. `ok`: the release is current. `failure` says what failed, if anything: "release"
    (the release phase), "boot" (a new web dyno exited or never bound $PORT). A release made while nothing
    served is current even when its web dyno crashed at boot (`ok` and `failure == "boot"`), as on Heroku."""
    ok: bool
    message: str
    failure: str = ""
    dyno: str = ""  # the dyno that failed: web.1, release.1
    exit_status: str = ""  # how it exited, as the logs show it: `3`, `137 (killed by signal 9)`; "" for R10
    lines: tuple[str, ...] = ()  # its last lines of output
    command: str = ""  # what it ran


class Command(Generic[T]):
    """A request to the loop; the caller awaits `reply`."""
    reply: asyncio.Future[T]
    _answering: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.reply = asyncio.get_running_loop().create_future()

    def answer(self, value: T) -> None:
        if not self.reply.done():
            self.reply.set_result(value)

    def fail(self, exc: BaseException) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)

    def answer_after(self, stops: list[asyncio.Task[None]], value: T) -> None:
        """Answer once these stops are done: the caller learns that the dynos are gone, not only going."""
        if not stops:
            self.answer(value)
            return

        async def answer() -> None:
            await asyncio.gather(*stops, return_exceptions=True)
            self.answer(value)
        self._answering = asyncio.ensure_future(answer())  # held here: the caller holds the command


# ----- commands (callers -> loop) -----

@dataclass(eq=False)
class Deploy(Command[DeployResult]):
    """Start `release`'s web dynos beside the serving ones; switch once all answer, or fail and stop them."""
    app: str
    release: RunRelease
    webs: int


@dataclass(eq=False)
class Restart(Command[int]):
    """ps:restart: replace every dyno, a type's or one (`target`); answers how many."""
    app: str
    target: str | None


@dataclass(eq=False)
class Stop(Command[int]):
    """ps:stop: stop a dyno or a type's dynos; the formation starts them again. Answers how many."""
    app: str
    target: str


@dataclass(eq=False)
class Wake(Command[bool]):
    """Start a sleeping app's web dynos; answers, once they are up (or not), whether any web dyno is up."""
    app: str


@dataclass(eq=False)
class Remove(Command[None]):
    """Forget an app being destroyed; answers once its dynos have stopped."""
    app: str


@dataclass(eq=False)
class Shutdown(Command[None]):
    """Stop every dyno and end the loop; answers once they have stopped."""


# ----- events (the loop's own tasks -> loop) -----

@dataclass(frozen=True)
class Ready:
    """A starting web dyno answered HTTP on its port."""
    dyno: Dyno
    proc: DynoProcess


@dataclass(frozen=True)
class Stopped:
    """A process the loop decided to stop has exited (its port is released)."""
    dyno: Dyno
    proc: DynoProcess


@dataclass(frozen=True)
class Sampled:
    """(bytes in use, kernel OOM kills so far) per dyno, by the pid of its main process."""
    rss: dict[int, tuple[int, int]]


Event = Union[Ready, Stopped, Sampled]
Message = Union[Command, Event]
