"""The swarm tests' fixtures: one local swarm per module (`PREFIX`, `NODES` of the module, 3 by default) and a
hoist on it (`SERVER_ENV` of the module added to its environment). A module with other needs defines its own."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.cluster.common import hoist_on, up
from tests.e2e.conftest import workdir  # noqa: F401 - the module's temp dir fixture
from tests.e2e.harness import HoistServer


@pytest.fixture(scope="module")
def swarm(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    with up(request.module.PREFIX, getattr(request.module, "NODES", 3)) as env:
        yield env


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, workdir: Path, swarm: dict[str, str]) -> Iterator[HoistServer]:  # noqa: F811
    with hoist_on(workdir, swarm, **getattr(request.module, "SERVER_ENV", {})) as srv:
        yield srv
