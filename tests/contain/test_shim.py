"""The shim with real processes: lines, the exit status, a hoist that goes away and comes back, drops."""
from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from hoist.contain.shimmed import Launch, ShimError, Zygote, attach, start


@pytest.fixture
def where() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="hoist-shim-"))
    yield d
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


def bash(command: str) -> Launch:
    return Launch(["/bin/bash", "-c", command], {"PATH": "/usr/bin:/bin"}, "/tmp")


def test_lines_then_the_exit_status_and_the_shim_goes(where: Path) -> None:
    async def body() -> None:
        lines: list[str] = []
        proc = await start(bash("echo one; echo two >&2; printf 'no newline'; exit 3"), listen=where / "s.sock",
                           unit=None, on_line=lines.append, linger=0.5)
        assert proc.pid > 0
        assert await proc.wait() == 3
        await proc.finished
        assert lines == ["one", "two", "no newline"]
        for _ in range(100):  # the shim goes once told, and takes its socket
            if not (where / "s.sock").exists():
                break
            await asyncio.sleep(0.02)
        assert not (where / "s.sock").exists()
    asyncio.run(body())


def test_a_hoist_that_goes_away_finds_the_lines_and_the_exit_when_it_comes_back(where: Path) -> None:
    """While nobody reads, the dyno never blocks on its output; the next hoist gets what was kept."""
    async def body() -> None:
        first: list[str] = []
        proc = await start(bash("echo before; sleep 0.5; for i in $(seq 1 20); do echo line $i; done; exit 7"),
                           listen=where / "s.sock", unit=None, on_line=first.append)
        pid = proc.pid
        await asyncio.sleep(0.2)
        proc.detach()  # as if hoist died
        await asyncio.sleep(1.2)  # the dyno writes and exits meanwhile
        second: list[str] = []
        again = await attach(where / "s.sock", None, on_line=second.append, linger=0.2)
        assert again is not None and again.pid == pid
        assert await again.wait() == 7
        await again.finished
        assert first == ["before"] and second == [f"line {i}" for i in range(1, 21)]
    asyncio.run(body())


def test_lines_over_the_rate_are_dropped_and_counted(where: Path) -> None:
    async def body() -> None:
        lines: list[str] = []
        dropped: list[int] = []
        proc = await start(bash("for i in $(seq 1 3000); do echo $i; done; sleep 0.3; echo last"),
                           listen=where / "s.sock", unit=None, rate=100, on_line=lines.append,
                           on_dropped=dropped.append, linger=0.2)
        assert await proc.wait() == 0
        await proc.finished
        assert len(lines) < 400 and sum(dropped) + len(lines) == 3001 and lines[-1] == "last"
    asyncio.run(body())


def test_a_command_that_cannot_start_says_why(where: Path) -> None:
    async def body() -> None:
        lines: list[str] = []
        proc = await start(Launch(["/nonexistent/program"], {}, "/tmp"), listen=where / "s.sock", unit=None,
                           on_line=lines.append, linger=0.1)
        assert await proc.wait() == 127
        assert any("could not start" in line and "nonexistent" in line for line in lines), lines
        with pytest.raises(ShimError, match="longer than a Unix socket path"):
            await start(bash("true"), listen=where / ("x" * 120), unit=None, on_line=lines.append)
    asyncio.run(body())


def test_signals_reach_the_process_group_without_a_cgroup(where: Path) -> None:
    async def body() -> None:
        proc = await start(bash("trap 'echo term; exit 0' TERM; sleep 100 & wait"), listen=where / "s.sock",
                           unit=None, on_line=lambda line: None, linger=0.2)
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        proc.signal(signal.SIGTERM)
        assert await proc.wait() == 0 and time.monotonic() - t0 < 5
        await proc.finished
    asyncio.run(body())


def test_the_zygote_forks_shims_that_belong_to_nobody(where: Path) -> None:
    """Shims forked by one zygote (no interpreter start-up per dyno) are no process's children: not hoist's,
    not the zygote's; they outlive both."""
    async def body() -> None:
        zygote = Zygote()
        procs = [await start(bash("echo up; exec sleep 30"), listen=where / f"{n}.sock", unit=None,
                             on_line=lambda line: None, zygote=zygote, linger=0.1) for n in range(3)]
        assert zygote._proc is not None and zygote._proc.returncode is None
        shims = {int(Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) for p in procs}
        assert len(shims) == 3 and os.getpid() not in shims and zygote._proc.pid not in shims
        for shim in shims:
            assert int(Path(f"/proc/{shim}/stat").read_text().rsplit(")", 1)[1].split()[1]) not in (
                os.getpid(), zygote._proc.pid)
        await zygote.close()
        assert all(p.returncode is None for p in procs)  # the zygote's end is not theirs
        for p in procs:
            p.signal(signal.SIGKILL)
            await p.closed()
    asyncio.run(body())
