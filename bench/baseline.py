"""Run an older hoist beside this one in a benchmark: a detached git worktree of REF, whose src/ a test
server imports instead of this checkout's (PYTHONPATH wins over the editable install)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """`src/` of `ref`, checked out in a temporary worktree for as long as the block runs."""
    where = Path(tempfile.mkdtemp(prefix="hoist-baseline-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(where), ref], cwd=ROOT, check=True)
    try:
        yield where / "src"
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=ROOT, capture_output=True)
        shutil.rmtree(where.parent, ignore_errors=True)


def describe(ref: str) -> str:
    out = subprocess.run(["git", "log", "-1", "--format=%h %s", ref], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip()[:80] or ref
