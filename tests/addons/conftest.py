"""One real PostgreSQL cluster for all add-on tests, stopped at the end."""
from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hoist.addons.postgres import provision
from hoist.addons.postgres.cluster import Cluster
from hoist.addons.postgres.provision import Credentials


@pytest.fixture(scope="session")
def pg_root() -> Iterator[Path]:
    """A private temp dir outside pytest's shared basetemp, which concurrent pytest runs prune."""
    root = Path(tempfile.mkdtemp(prefix="hoist-pg-tests-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_tmp(pg_root: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh directory for one test under pg_root."""
    path = pg_root / f"{next(_counter)}-{request.node.name[:40]}"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def cluster(pg_root: Path) -> Iterator[Cluster]:
    c = Cluster(pg_root / "shared" / "postgres" / "data")
    c.start()
    try:
        yield c
    finally:
        c.stop()
    assert not c.is_running()


@pytest.fixture(scope="session")
def admin_url(cluster: Cluster) -> str:
    return cluster.admin_url()


_counter = itertools.count()


@pytest.fixture
def make_db(admin_url: str) -> Iterator[Callable[[str], Credentials]]:
    """Create uniquely named add-on databases; destroy them after the test."""
    made: list[Credentials] = []

    def make(prefix: str = "app") -> Credentials:
        creds = provision.create(admin_url, f"{prefix}-{next(_counter)}")
        made.append(creds)
        return creds

    yield make
    for creds in made:
        provision.destroy(admin_url, creds.database, creds.user)
