"""The supervisor with real processes: formation, crashes, stops, boot timeout."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Callable

from hoist.procs import RESTART_DELAYS as DELAYS, restart_delay
from tests.dynos.conftest import PY, WEB, Rig, group_pids

SLEEPER = "exec sleep 300"


def test_backoff_first_restart_is_immediate_then_grows_to_a_cap() -> None:
    assert restart_delay(1) == 0.0
    delays = [restart_delay(n) for n in range(1, 20)]
    assert delays == sorted(delays) and delays[-1] == DELAYS[-1] and delays[1] > 0


def test_formation_scale_down_and_types_removed_from_the_procfile(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        rel = rig.release({"web": WEB, "worker": SLEEPER, "clock": SLEEPER})
        res = await rig.sup.deploy("app", rel, {"web": 2, "worker": 1, "clock": 1})
        assert res.ok, res.message
        await rig.until(lambda: {n for n, d in rig.sup.apps["app"].dynos.items() if d.state == "up"}
                        == {"web.1", "web.2", "worker.1", "clock.1"}, what="4 dynos up")
        assert rig.sup.web_backends()["app"][0] == "up" and len(rig.sup.web_backends()["app"][1]) == 2
        worker = rig.dyno("worker.1").proc.pid
        rig.sup.set_formation("app", {"web": 2, "worker": 0, "clock": 1})
        await rig.until(lambda: "worker.1" not in rig.sup.apps["app"].dynos and not group_pids(worker))
        clock = rig.dyno("clock.1").proc.pid
        # The next release's Procfile has no clock: its dyno stops though the formation still says 1.
        res = await rig.sup.deploy("app", rig.release({"web": WEB, "worker": SLEEPER}), {"web": 2, "worker": 0, "clock": 1})
        assert res.ok
        await rig.until(lambda: not group_pids(clock), what="clock.1 stopped")
        assert set(rig.sup.apps["app"].dynos) == {"web.1", "web.2"}
    run_rig(body, stop_grace=5)


def test_crash_restarts_immediately_then_backs_off_and_shows_crashed(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        rel = rig.release({"web": "echo booting; exit 3"})
        rig.sup.load("app", rel, {"web": 1})
        t0 = time.monotonic()
        await rig.until(lambda: rig.text().count("Starting process") >= 2, what="first restart")
        first_restart = time.monotonic() - t0
        await asyncio.sleep(2.0)
        starts = rig.text().count("Starting process")
        assert first_restart < 1.0
        assert 3 <= starts <= 4, starts  # delays 0, 1, 2 s: not a tight loop
        log = rig.text()
        assert "heroku[web.1]: Process exited with status 3" in log
        assert "heroku[web.1]: State changed from starting to crashed" in log
        assert "app[web.1]: booting" in log
        # Between restarts the dyno shows crashed and the router answers H10.
        await rig.until(lambda: rig.dyno("web.1").state == "crashed")
        assert rig.sup.web_backends()["app"] == ("crashed", [])
        assert any(r.get("app", ("",))[0] == "crashed" for r in rig.routes)
    run_rig(body)


def test_app_that_forks_daemons_and_exits_has_its_group_cleaned(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        rel = rig.release({"worker": "sleep 300 & sleep 301 & sleep 0.3; exit 0"})
        rig.sup.load("app", rel, {"worker": 1})
        await rig.until(lambda: rig.dyno("worker.1") is not None and rig.dyno("worker.1").proc is not None)
        pgid = rig.dyno("worker.1").proc.pid
        await rig.until(lambda: len(group_pids(pgid)) >= 2, what="daemons started")
        await rig.until(lambda: "Process exited with status 0" in rig.text(), what="leader exit")
        await rig.until(lambda: not group_pids(pgid), timeout=3, what="daemons killed")
        rig.sup.set_formation("app", {"worker": 0})
    run_rig(body)


def test_sigterm_ignoring_dyno_is_killed_after_the_grace(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        rel = rig.release({"worker": "trap '' TERM; echo ready; sleep 300"})
        rig.sup.load("app", rel, {"worker": 1})
        await rig.until(lambda: "app[worker.1]: ready" in rig.text())
        pgid = rig.dyno("worker.1").proc.pid
        t0 = time.monotonic()
        rig.sup.set_formation("app", {"worker": 0})
        await rig.until(lambda: not group_pids(pgid), timeout=5, what="SIGKILL after grace")
        took = time.monotonic() - t0
        assert 0.9 < took < 3.0, took
        # The group is gone before the supervisor has reaped the leader and logged its exit.
        await rig.until(lambda: "Process exited with status" in rig.text(), timeout=3, what="exit logged")
        log = rig.text()
        assert "Stopping all processes with SIGTERM" in log
        assert "Error R12 (Exit timeout)" in log and "Stopping remaining processes with SIGKILL" in log
        assert "Process exited with status 137 (killed by signal 9)" in log
    run_rig(body, stop_grace=1.0)


def test_ps_stop_stops_a_dyno_and_the_formation_brings_it_back(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        rig.sup.load("app", rig.release({"worker": SLEEPER}), {"worker": 2})
        await rig.until(lambda: all(rig.dyno(n) is not None and rig.dyno(n).state == "up" for n in ("worker.1", "worker.2")))
        old, other = rig.dyno("worker.1").proc.pid, rig.dyno("worker.2").proc.pid
        assert await rig.sup.stop("app", "worker.1") == 1
        await rig.until(lambda: not group_pids(old), what="worker.1 stopped")
        await rig.until(lambda: rig.dyno("worker.1").proc is not None and rig.dyno("worker.1").proc.pid != old
                        and rig.dyno("worker.1").state == "up", what="worker.1 back")
        assert rig.dyno("worker.2").proc.pid == other  # only the one named
        assert "State changed from up to down" in rig.text() and await rig.sup.stop("app", "nope") == 0
    run_rig(body, stop_grace=5)


def test_kill_9_of_a_dyno_and_of_all_dynos_restarts_them(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        rig.sup.load("app", rig.release({"web": WEB, "worker": SLEEPER}), {"web": 2, "worker": 1})
        names = ("web.1", "web.2", "worker.1")
        await rig.until(lambda: all(rig.dyno(n) is not None and rig.dyno(n).state == "up" for n in names))
        pid = rig.dyno("web.1").proc.pid
        os.kill(pid, signal.SIGKILL)
        await rig.until(lambda: rig.dyno("web.1").proc is not None and rig.dyno("web.1").proc.pid != pid
                        and rig.dyno("web.1").state == "up", timeout=5, what="web.1 restarted")
        assert "Process exited with status 137 (killed by signal 9)" in rig.text()
        pids = {n: rig.dyno(n).proc.pid for n in names}
        for p in pids.values():
            os.kill(p, signal.SIGKILL)
        await rig.until(lambda: all(rig.dyno(n).proc is not None and rig.dyno(n).proc.pid != pids[n]
                                    and rig.dyno(n).state == "up" for n in names), timeout=5, what="all back")
    run_rig(body, stop_grace=5)


def test_web_that_never_binds_fails_the_release_with_r10_and_old_keeps_serving(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        assert (await rig.sup.deploy("app", rig.release({"web": WEB}), {"web": 1})).ok
        old_port = rig.dyno("web.1").port
        t0 = time.monotonic()
        res = await rig.sup.deploy("app", rig.release({"web": "echo not listening; exec sleep 300"}), {"web": 1})
        assert not res.ok and "R10" in res.message and time.monotonic() - t0 < 4
        assert "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 1.5 seconds" in rig.text()
        assert rig.sup.web_backends()["app"] == ("up", [("web.1", "127.0.0.1", old_port)])
        assert rig.sup.apps["app"].release.version == 1
    run_rig(body, boot_timeout=1.5, stop_grace=2)


def test_orphans_of_a_dead_supervisor_are_cleaned_from_pid_files(run_rig: Callable[..., None]) -> None:
    from hoist.dynos.local import LocalScheduler

    pgids: list[int] = []

    async def body(rig: Rig) -> None:
        rig.sup.load("app", rig.release({"worker": "sleep 300 & exec sleep 301"}), {"worker": 2})
        await rig.until(lambda: all(rig.dyno(n) is not None and rig.dyno(n).state == "up" for n in ("worker.1", "worker.2")))
        pgids.extend(rig.dyno(n).proc.pid for n in ("worker.1", "worker.2"))
        await rig.until(lambda: all(len(group_pids(g)) == 2 for g in pgids))
        # As if hoist died: a fresh scheduler over the same run dir finds and stops them.
        assert LocalScheduler(rig.root / "run").cleanup_orphans(grace=2) == 2
        assert not any(group_pids(g) for g in pgids)
        rig.sup.set_formation("app", {"worker": 0})
    run_rig(body, stop_grace=2)


def test_quick_successive_restarts_never_leave_an_untracked_process(run_rig: Callable[..., None]) -> None:
    """ps:restart then ps:restart worker while the loop is mid-reconcile: one process per dyno, never two."""
    async def body(rig: Rig) -> None:
        marks = rig.root / "pids"
        marks.mkdir()
        worker = f"touch {marks}/$$; exec sleep 300"
        rig.sup.load("app", rig.release({"web": WEB, "worker": worker}), {"web": 2, "worker": 2})
        names = ("web.1", "web.2", "worker.1", "worker.2")
        settled = lambda: all(rig.dyno(n) is not None and rig.dyno(n).state == "up" for n in names)  # noqa: E731
        await rig.until(settled, what="all up")
        for _ in range(4):
            await rig.sup.restart("app")
            await asyncio.sleep(0.01)
            await rig.sup.restart("app", "worker")
            await asyncio.sleep(0.05)
            await rig.sup.restart("app", "worker.2")
            await rig.until(settled, what="all up again")
        tracked = {rig.dyno(n).proc.pid for n in ("worker.1", "worker.2")}

        def live_workers() -> set[int]:
            return {int(p.name) for p in marks.iterdir() if group_pids(int(p.name))}
        await rig.until(lambda: live_workers() == tracked, timeout=8,
                        what=f"only the tracked workers {tracked} alive")
        await asyncio.sleep(1.0)  # and nothing untracked starts later
        assert live_workers() == tracked
    run_rig(body, stop_grace=0.5)
