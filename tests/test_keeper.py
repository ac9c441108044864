"""The keeper with real child processes: restarts with growing delays, the count reset after a stable run,
stop (terminate, then kill), a caller waking the loop, and first starts that fail."""
from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from hoist.keeper import ChildError, Detached, Keeper, Spawned

PY = sys.executable
DELAYS = (0.0, 0.4, 0.8, 1.6)


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), 60))


async def until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


class Counted(Spawned):
    """A Spawned child that notes when each start began."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.starts: list[float] = []

    async def spawn(self) -> bool:
        self.starts.append(time.monotonic())
        return await super().spawn()


def test_a_child_that_exits_is_restarted_with_growing_delays() -> None:
    async def body() -> None:
        said: list[str] = []
        keeper = Keeper(said.append, delays=DELAYS, stable_after=30.0)
        child = Counted("crasher", [PY, "-c", "import sys; sys.exit(3)"])
        await keeper.start(child)
        await until(lambda: len(child.starts) >= 4, "three restarts")
        await keeper.stop(child)
        gaps = [b - a for a, b in zip(child.starts, child.starts[1:])]
        assert gaps[1] >= DELAYS[1] and gaps[2] >= DELAYS[2], gaps  # each wait longer than the one before
        assert said[:4] == ["crasher exited with status 3; restarting it", "crasher restarted",
                            "crasher exited with status 3; restarting it in 0.4 s", "crasher restarted"], said
        assert "crasher exited with status 3; restarting it in 0.8 s" in said
        settled = len(child.starts)
        await asyncio.sleep(DELAYS[-1] + 0.3)
        assert len(child.starts) == settled, "a stopped child was started again"

    run(body)


def test_a_stable_run_starts_the_count_again() -> None:
    async def body() -> None:
        said: list[str] = []
        keeper = Keeper(said.append, delays=(0.0, 5.0), stable_after=0.3)
        child = Counted("steady", [PY, "-c", "import time; time.sleep(0.5)"])
        await keeper.start(child)
        await until(lambda: len(child.starts) >= 3, "two restarts")
        await keeper.stop(child)
        exits = [line for line in said if "exited" in line]
        assert exits and all(line == "steady exited with status 0; restarting it" for line in exits), said

    run(body)


IGNORES_TERM = ("import signal, sys, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)")


def test_stop_terminates_then_kills(tmp_path: Path) -> None:
    async def body() -> None:
        keeper = Keeper(lambda _: None, delays=DELAYS)
        marker = tmp_path / "ready"
        stubborn = Spawned("stubborn", [PY, "-c", IGNORES_TERM, str(marker)], grace=0.5,
                           ready=lambda: _exists(marker))
        await keeper.start(stubborn)
        proc = stubborn.proc
        assert proc is not None and stubborn.running
        began = time.monotonic()
        await keeper.stop(stubborn)
        assert proc.returncode == -signal.SIGKILL and time.monotonic() - began >= 0.5
        assert not stubborn.running and not keeper.kept(stubborn)

        polite = Spawned("polite", [PY, "-c", "import time; time.sleep(60)"], grace=10)
        await keeper.start(polite)
        proc = polite.proc
        assert proc is not None
        began = time.monotonic()
        await keeper.stop(polite)
        assert proc.returncode == -signal.SIGTERM and time.monotonic() - began < 5

    run(body)


async def _exists(path: Path) -> bool:
    return path.exists()


class Sleeper:
    """A Daemon around a real process; the keeper sees it only through start / is_running / stop."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0

    def start(self) -> None:
        self.proc = subprocess.Popen([PY, "-c", "import time; time.sleep(60)"])
        self.started += 1

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def test_a_caller_that_finds_a_kept_child_down_has_its_loop_restart_it_now() -> None:
    async def body() -> None:
        said: list[str] = []
        keeper = Keeper(said.append, delays=DELAYS)
        sleeper = Sleeper()
        child = Detached("sleeper", sleeper, poll_s=60.0)  # the loop alone would not notice for a minute
        await keeper.start(child)
        await keeper.start(child)  # running: nothing to do
        assert sleeper.started == 1
        assert sleeper.proc is not None
        sleeper.proc.kill()
        sleeper.proc.wait()
        began = time.monotonic()
        await keeper.start(child)
        assert sleeper.started == 2 and child.running and time.monotonic() - began < 5
        assert said == ["sleeper is not running (it exited or was killed); restarting it", "sleeper restarted"]
        await keeper.stop_all()
        assert not child.running and not keeper.kept(child)

    run(body)


def test_a_failed_first_start_raises_and_is_kept_only_with_retry(tmp_path: Path) -> None:
    async def body() -> None:
        said: list[str] = []
        keeper = Keeper(said.append, delays=DELAYS)
        never = Spawned("never", [PY, "-c", "import time; time.sleep(60)"], ready=lambda: _exists(tmp_path / "x"),
                        ready_timeout=0.3, grace=1)
        with pytest.raises(ChildError, match="never was not ready within 0.3 s"):
            await keeper.start(never)
        assert not keeper.kept(never) and not never.running

        # Fails the first time (exits at once), serves the second.
        marker, ready = tmp_path / "tried", tmp_path / "ready"
        code = ("import sys, time, pathlib; m, r = map(pathlib.Path, sys.argv[1:]); "
                "sys.exit(1) if not m.exists() and not m.touch() else (r.touch(), time.sleep(60))")
        second = Spawned("second", [PY, "-c", code, str(marker), str(ready)], ready=lambda: _exists(ready))
        with pytest.raises(ChildError, match="second exited with status 1 as it started"):
            await keeper.start(second, retry=True)
        assert keeper.kept(second)
        await until(lambda: second.running and ready.exists(), "the retried start")
        await until(lambda: "second restarted" in said, "the keeper's message")
        assert said[0] == "second did not start; trying again now", said
        await keeper.stop_all()
        assert not second.running

    run(body)
