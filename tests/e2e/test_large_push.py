"""A 200 MB repository deploys (issue 3: large repos are not a failure mode)."""
from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo


def test_a_200_mb_repository_deploys(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "big", example_files("hello"), server.env())
    (repo / "data.bin").write_bytes(os.urandom(200 * 1024 * 1024))
    commit_files(repo, {}, server.env(), "200 MB of data")
    server.cli("apps:create", "big-repo", cwd=repo)
    # Random data does not compress: skip the client's futile zlib pass.
    push = server.git(repo, "-c", "pack.compression=0", "push", "hoist", "HEAD:main", timeout=900)
    assert "Slug size: 2" in push.stderr and "Released v2" in push.stderr
    assert server.app_get("big-repo").text.startswith("Hello from hoist")
    slug_dirs = list((server.home / "apps" / "big-repo" / "slugs").iterdir())
    assert len(slug_dirs) == 1 and (slug_dirs[0] / "data.bin").stat().st_size == 200 * 1024 * 1024
