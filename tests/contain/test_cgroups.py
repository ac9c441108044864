"""A unit on the real kernel (root): made before its process runs, holding everything that process starts in
any session, measured, limited and killed as a whole, then removed."""
from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from hoist.contain.cgroups import Limits, Tree, open_tree
from hoist.contain.layout import read_layout
from hoist.contain.shimmed import Launch, start

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not read_layout().mode, reason="needs root and cgroups")
PY = "/usr/bin/python3"


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hoist-cg-"))
    yield path
    for p in path.iterdir():
        p.unlink()
    path.rmdir()


@pytest.fixture
def tree(home: Path) -> Iterator[Tree]:
    made, why = open_tree(home)
    assert made is not None, why
    try:
        yield made
    finally:
        for unit in [*made.units("apps", "a")]:
            unit.kill()
            unit.wait_empty(5)
        made.unit("shims").wait_empty(5)  # a shim leaves a moment after it was told to
        made.remove_all()
        assert not made.track_root.exists()


def test_everything_the_process_starts_is_the_units_and_dies_with_it(tree: Tree, home: Path) -> None:
    """Children in new sessions, a double-forked daemon: one unit, killed at once."""
    unit = tree.unit("apps", "a", "web.1@t")
    unit.create(Limits(memory_bytes=256 << 20, pids=64, cpu_weight=100))
    script = ("import os, subprocess, sys, time\n"
              "for _ in range(3):\n"
              "    subprocess.Popen([sys.executable, '-c', 'import time; b = b\"x\" * (20 << 20); time.sleep(60)'],"
              " start_new_session=True)\n"
              "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(60)\n    os._exit(0)\n"
              "print('started', flush=True)\ntime.sleep(60)\n")

    async def body() -> None:
        lines: list[str] = []
        proc = await start(Launch([PY, "-c", script], {"PATH": "/usr/bin:/bin"}, "/tmp"), listen=home / "t.sock",
                           unit=unit, shim_unit=tree.unit("shims"), on_line=lines.append, linger=0.2)
        for _ in range(100):
            if "started" in lines and unit.memory() > 60 << 20:
                break
            await asyncio.sleep(0.1)
        pids = unit.pids()
        assert len(pids) >= 5 and len({os.getsid(p) for p in pids}) >= 4, pids  # sessions of their own
        assert unit.memory() > 60 << 20  # the three 20 MB children count as the unit's
        assert proc.pid in pids and unit.populated()
        proc.signal(9)
        assert await proc.wait() == -9
        await proc.finished
        assert not unit.populated() and not unit.exists()  # killed at once, and removed
    asyncio.run(body())


def test_the_memory_limit_is_the_whole_units_and_the_kernel_kills_in_it(tree: Tree, home: Path) -> None:
    unit = tree.unit("apps", "a", "worker.1@t")
    unit.create(Limits(memory_bytes=64 << 20))
    hog = "import time\nb = []\nwhile True:\n    b.append(b'x' * (8 << 20)); time.sleep(0.01)\n"

    async def body() -> None:
        proc = await start(Launch([PY, "-c", hog], {}, "/tmp"), listen=home / "m.sock", unit=unit,
                           on_line=lambda line: None, linger=0.2)
        assert await asyncio.wait_for(proc.wait(), 30) == -9  # the kernel's OOM kill at the unit's limit
        assert unit.oom_kills() >= 1 if unit.exists() else True
        await proc.finished
    asyncio.run(body())
