"""`hoist nodes` with the local scheduler (a real Supervisor over the real LocalScheduler): one row, this
machine, with the app's running dynos; admin only; draining says there is no node to drain."""
from __future__ import annotations

import socket
from typing import Callable

import pytest

from hoist.platform.errors import PlatformError
from hoist.platform.nodes import Nodes
from hoist.state.users import User
from tests.dynos.conftest import WEB, Rig, rig_root, run_rig  # noqa: F401 - fixtures

ADMIN = User(id="u1", email="admin@hoist.local", is_admin=True, created_at="2026-01-01T00:00:00Z")
FRIEND = User(id="u2", email="friend@example.com", is_admin=False, created_at="2026-01-01T00:00:00Z")


def test_local_nodes_is_this_machine_with_its_dynos(run_rig: Callable[..., None]) -> None:
    async def body(rig: Rig) -> None:
        res = await rig.sup.deploy("app", rig.release({"web": WEB, "worker": "exec sleep 300"}), {"web": 2, "worker": 1})
        assert res.ok, res.message
        await rig.until(lambda: rig.dyno("worker.1") is not None and rig.dyno("worker.1").state == "up")
        nodes = Nodes(rig.sup)
        [row] = await nodes.list(ADMIN)
        assert row["hostname"] == socket.gethostname() and row["role"] == "leader" and row["state"] == "ready"
        assert row["dynos"] == ["app web.1", "app web.2", "app worker.1"]
        assert row["memory"]["total"] >= row["memory"]["free"] > 0
        with pytest.raises(PlatformError, match="Only the admin can list the nodes") as exc:
            await nodes.list(FRIEND)
        assert exc.value.status == 403
        with pytest.raises(PlatformError, match="Only the admin can drain a node"):
            await nodes.drain(FRIEND, "here")
        with pytest.raises(PlatformError, match="HOIST_SCHEDULER=local.*no node to drain.*HOIST_SCHEDULER=swarm"):
            await nodes.drain(ADMIN, socket.gethostname())
    run_rig(body, stop_grace=5)
