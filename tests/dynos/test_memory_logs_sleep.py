"""Memory quotas, log floods and sleep/wake with real processes."""
from __future__ import annotations

import asyncio
import time
from typing import Callable

from hoist.dynos.loglimit import LineLimiter
from hoist.dynos.memory import group_rss, parse_stat, verdict
from hoist.dynos.readiness import http_status
from tests.dynos.conftest import PY, WEB, Rig, group_pids


def test_parse_stat_and_verdict() -> None:
    stat = "123 (a b) c) S 1 456 456 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 99 1000 250 184467"
    assert parse_stat(stat) == (456, 250)
    assert parse_stat("garbage") is None
    assert verdict(100, 512, 2) is None and verdict(600, 512, 2) == "R14" and verdict(1100, 512, 2) == "R15"


def test_limiter_drops_over_the_rate_and_says_how_many() -> None:
    now = [0.0]
    kept: list[str] = []
    notes: list[str] = []
    lim = LineLimiter(kept.append, notes.append, rate=10, burst=5, clock=lambda: now[0])
    for i in range(20):
        lim(str(i))
    assert kept == ["0", "1", "2", "3", "4"] and not notes
    now[0] = 1.0
    lim("later")
    assert kept[-1] == "later" and "15 log lines dropped" in notes[0] and "L10" in notes[0]


def test_group_rss_sums_every_process_of_the_group(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        hog = f"{PY} -c \"b = b'x' * (30 << 20); import time; time.sleep(300)\""
        rig.sup.load("app", rig.release({"worker": f"{hog} & {hog} & wait"}), {"worker": 1})
        await rig.until(lambda: rig.dyno("worker.1") is not None and rig.dyno("worker.1").proc is not None)
        pgid = rig.dyno("worker.1").proc.pid
        await rig.until(lambda: group_rss([pgid])[pgid] > 60 << 20, what="two 30 MB children counted")
        rig.sup.set_formation("app", {"worker": 0})
    run_rig(body, stop_grace=2)


def test_over_quota_logs_r14_and_far_over_restarts_with_r15(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        grow = (f"exec {PY} -c \"import time, os\n"
                "b = b'x' * (40 << 20); print('40M', flush=True); time.sleep(1.5)\n"
                "c = b'y' * (100 << 20); print('140M', flush=True); time.sleep(300)\"")
        rig.sup.load("app", rig.release({"worker": grow}), {"worker": 1})
        await rig.until(lambda: "Error R14 (Memory quota exceeded)" in rig.text(), timeout=10)
        first = rig.dyno("worker.1")
        assert first.memory_mb is not None and first.memory_mb > 30
        await rig.until(lambda: "Error R15 (Memory quota vastly exceeded)" in rig.text(), timeout=10)
        await rig.until(lambda: rig.dyno("worker.1") is not None and rig.dyno("worker.1") is not first
                        and rig.dyno("worker.1").proc is not None, what="restarted after R15")
        assert "heroku[worker.1]: Restarting" in rig.text()
        rig.sup.set_formation("app", {"worker": 0})
    run_rig(body, memory_quota_mb=30, memory_kill_factor=3, memory_interval=0.3, stop_grace=2)


def test_log_flood_keeps_the_loop_responsive_and_memory_bounded(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        # ~10 MB/s: 10 000 lines of 1 000 bytes a second.
        flood = (f"exec {PY} -c \"import sys, time\n"
                 "line = 'x' * 999 + chr(10)\n"
                 "while True:\n"
                 "    t = time.monotonic(); sys.stdout.write(line * 1000); sys.stdout.flush()\n"
                 "    time.sleep(max(0, 0.1 - (time.monotonic() - t)))\"")
        rig.sup.load("app", rig.release({"worker": flood}), {"worker": 1})
        await rig.until(lambda: rig.dyno("worker.1") is not None and rig.dyno("worker.1").state == "up")
        worst = 0.0
        end = time.monotonic() + 3
        while time.monotonic() < end:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            worst = max(worst, time.monotonic() - t - 0.01)
        assert worst < 0.2, f"event loop stalled {worst:.3f}s"
        lines = rig.logs.recent("app", 1_000_000)
        assert len(lines) <= 2000  # the store keeps N lines
        assert "Error L10 (output buffer overflow)" in rig.text()
        rig.sup.set_formation("app", {"worker": 0})
    run_rig(body, keep=2000, log_rate=1000, stop_grace=2)


def test_sleeping_app_idles_with_no_process_and_wakes(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        assert (await rig.sup.deploy("app", rig.release({"web": WEB, "worker": "exec sleep 300"}),
                                     {"web": 1, "worker": 1})).ok
        rig.sup.set_sleep("app", True)
        pgid = rig.dyno("web.1").proc.pid
        await rig.until(lambda: rig.dyno("web.1").state == "idle", timeout=5, what="idle")
        await rig.until(lambda: not group_pids(pgid), what="web process gone")
        assert rig.sup.web_backends()["app"] == ("idle", [])
        assert rig.dyno("worker.1").state == "up"  # only web dynos sleep
        await asyncio.sleep(0.6)
        assert rig.dyno("web.1").proc is None  # stays asleep: no restart by the loop
        t0 = time.monotonic()
        assert await rig.sup.wake_app("app")
        woke = time.monotonic() - t0
        state, backends = rig.sup.web_backends()["app"]
        assert state == "up" and await http_status(backends[0][2]) == 200
        assert woke < 2.0, woke
        assert "State changed from up to idle" in rig.text()
        # ps:sleep off keeps it awake past the idle time.
        rig.sup.set_sleep("app", False)
        await asyncio.sleep(1.0)
        assert rig.dyno("web.1").state == "up"
    run_rig(body, sleep_after=0.5, stop_grace=2)
