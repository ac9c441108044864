"""What containment adds to starting a dyno: from the spawn call to the dyno's command running, through the
LocalScheduler (record, cgroup with its limits, shim, launcher) against a bare process-group spawn (what
hoist did before: bash in a new session, its pipe read by hoist), interleaved in one run.

Run as root for cgroups: python bench/spawn.py [--rounds 30]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from hoist.contain.cgroups import Limits, open_tree  # noqa: E402
from hoist.dynos.local import LocalScheduler  # noqa: E402
from hoist.dynos.scheduler import DynoSpec  # noqa: E402


async def until_line(lines: list[str], started: float) -> float:
    while not lines:
        await asyncio.sleep(0.0005)
    return time.monotonic() - started


async def contained(scheduler: LocalScheduler, n: int) -> float:
    lines: list[str] = []
    t0 = time.monotonic()
    proc = await scheduler.spawn(DynoSpec("bench", f"worker.{n}", "echo up; exec sleep 30", Path("/tmp"),
                                          {"PATH": "/usr/bin:/bin"}), lines.append)
    took = await until_line(lines, t0)
    proc.signal(9)
    await proc.closed()
    return took


async def bare(n: int) -> float:
    t0 = time.monotonic()
    proc = await asyncio.create_subprocess_exec("/bin/bash", "-c", "echo up; exec sleep 30", cwd="/tmp",
                                                env={"PATH": "/usr/bin:/bin"}, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    assert proc.stdout is not None
    await proc.stdout.readline()
    took = time.monotonic() - t0
    os.killpg(proc.pid, 9)
    await proc.wait()
    return took


async def main(rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-spawn-"))
    tree, why = open_tree(work)
    if tree is None:
        print(f"not contained: {why}")
    scheduler = LocalScheduler(work / "run", tree=tree, unit_limits=Limits(512 << 20, 512, 100))
    times: dict[str, list[float]] = {"bare process group (before)": [], "contained (after)": []}
    try:
        for n in range(rounds):
            times["bare process group (before)"].append(await bare(n))
            times["contained (after)"].append(await contained(scheduler, n))
    finally:
        if tree is not None:
            tree.unit("shims").wait_empty(5)
            tree.remove_all()
        shutil.rmtree(work, ignore_errors=True)
    print(f"spawn to the dyno's first line, {rounds} rounds (ms)")
    for label, values in times.items():
        print(f"{label:30} median {statistics.median(values) * 1000:7.1f}  min {min(values) * 1000:7.1f}  "
              f"max {max(values) * 1000:7.1f}")
    a, b = (statistics.median(v) for v in times.values())
    print(f"containment adds {(b - a) * 1000:.1f} ms per dyno start (median)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    asyncio.run(main(ap.parse_args().rounds))
