"""Bare repositories, one per app, with hoist's pre-receive hook."""
from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from hoist.launch import module_argv

HOOK = """#!/bin/sh
# Installed by hoist: hands the pushed commit to the builder and streams the build back.
exec {argv}
"""


def init_repo(path: Path) -> None:
    """Create the bare repo (idempotent) and (re)install the hook for this hoist's Python."""
    if not (path / "HEAD").exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(path)], check=True)
        for key, value in (("http.receivepack", "true"), ("receive.denyDeletes", "true"),
                           ("receive.denyNonFastForwards", "false"), ("gc.auto", "0")):
            subprocess.run(["git", "-C", str(path), "config", key, value], check=True)
    hook = path / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(HOOK.format(argv=shlex.join(module_argv("hoist.git.hook"))))
    hook.chmod(0o755)
