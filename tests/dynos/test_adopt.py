"""A restarted hoist adopts the dynos the previous one left running (same release, in the formation) and
stops the rest; lines a dyno wrote while no hoist listened reach the next one."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hoist.contracts.release import RunRelease
from hoist.dynos.local import LocalScheduler
from hoist.dynos.supervisor import Supervisor
from hoist.logs.store import LogStore
from tests.dynos.conftest import group_pids

TICKER = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"


def _release(root: Path, n: int) -> RunRelease:
    slug = root / f"slug{n}"
    slug.mkdir(exist_ok=True)
    return RunRelease(id=f"r{n}", version=n, process_types={"worker": TICKER, "clock": "exec sleep 300"},
                      slug_dir=slug, env_dir=None, config={})


def test_a_restarted_supervisor_adopts_what_its_formation_wants_and_stops_the_rest(rig_root: Path) -> None:
    async def body() -> None:
        logs = LogStore(lambda app: rig_root / "logs" / app, keep=5000)
        rel = _release(rig_root, 1)
        first = Supervisor(LocalScheduler(rig_root / "run"), logs, lambda b: None, stop_grace=2)
        loop = asyncio.create_task(first.run())
        first.load("app", rel, {"worker": 2, "clock": 1})
        deadline = time.monotonic() + 10
        while len([d for d in first.apps["app"].dynos.values() if d.proc is not None]) < 3:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        pids = {n: d.proc.pid for n, d in first.apps["app"].dynos.items() if d.proc is not None}
        await first.detach()  # hoist hands over: nothing stops
        await loop
        assert isinstance(first.scheduler, LocalScheduler)
        await first.scheduler.detach()
        await asyncio.sleep(0.6)  # the workers tick on with nobody listening
        assert all(group_pids(p) for p in pids.values())

        second = Supervisor(LocalScheduler(rig_root / "run"), logs, lambda b: None, stop_grace=2)
        await second.recover({"app"})
        second.load("app", rel, {"worker": 1, "clock": 1})  # worker.2 is no longer wanted
        assert second.reject_unclaimed() == (2, 1)
        loop = asyncio.create_task(second.run())
        try:
            dynos = second.apps["app"].dynos
            assert {n: d.proc.pid for n, d in dynos.items() if d.proc} == {n: pids[n] for n in ("worker.1", "clock.1")}
            assert all(d.state == "up" for d in dynos.values())
            deadline = time.monotonic() + 10
            while group_pids(pids["worker.2"]):  # stopped, as not in the formation
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # and it goes on ticking to this one
            ticks = [int(l.message.split()[1]) for l in logs.recent("app", 5000)
                     if l.dyno == "worker.1" and l.message.startswith("tick ")]
            assert ticks == list(range(1, len(ticks) + 1)) and len(ticks) > 5  # none lost across the handover
            assert any("Process adopted by the restarted hoist" in l.message for l in logs.recent("app", 5000))
        finally:
            await second.shutdown()
            await loop
            await second.scheduler.close()  # as the server stops: the survivors it rejected are cleaned up too
            logs.close()
        assert not any(group_pids(p) for p in pids.values())
        assert not list((rig_root / "run").iterdir())  # no record, no socket left
    asyncio.run(body())
