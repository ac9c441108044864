"""A renamed app's dynos keep running under the new name: the same processes, their output logged
under it, restarts and scaling finding them there, and the route table following at once."""
from __future__ import annotations

from typing import Callable

from tests.dynos.conftest import PY, WEB, Rig, group_pids

TALKER = f"exec {PY} -u -c \"import time\nwhile True: print('tick', flush=True); time.sleep(0.05)\""


def test_rename_rekeys_running_dynos_without_restarting_them(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        res = await rig.sup.deploy("old", rig.release({"web": WEB, "worker": TALKER}), {"web": 1, "worker": 1})
        assert res.ok, res.message
        await rig.until(lambda: all(d.state == "up" for d in rig.sup.apps["old"].dynos.values())
                        and len(rig.sup.apps["old"].dynos) == 2, what="web and worker up")
        pids = {n: d.proc.pid for n, d in rig.sup.apps["old"].dynos.items()}
        published = len(rig.routes)
        rig.logs.rename("old", "new")
        rig.sup.rename("old", "new")
        assert "old" not in rig.sup.apps and set(rig.sup.apps["new"].dynos) == {"web.1", "worker.1"}
        assert len(rig.routes) == published + 1 and "new" in rig.routes[-1] and "old" not in rig.routes[-1]
        assert rig.sup.web_backends()["new"][0] == "up"
        assert {n: d.proc.pid for n, d in rig.sup.apps["new"].dynos.items()} == pids  # not restarted
        ticks = rig.text("new").count("app[worker.1]: tick")
        await rig.until(lambda: rig.text("new").count("app[worker.1]: tick") > ticks + 5, what="ticks under new")
        # managed under the new name: a restart replaces the worker, scaling adds a web dyno
        assert await rig.sup.restart("new", "worker") == 1
        await rig.until(lambda: not group_pids(pids["worker.1"]), what="old worker gone")
        await rig.until(lambda: (w := rig.dyno("worker.1", "new")) is not None and w.state == "up"
                        and w.proc.pid != pids["worker.1"], what="new worker up")
        rig.sup.set_formation("new", {"web": 2, "worker": 1})
        await rig.until(lambda: (d := rig.dyno("web.2", "new")) is not None and d.state == "up", what="web.2 up")
        assert "old" not in rig.sup.apps
    run_rig(body, stop_grace=5)
