"""Immutable virtualenvs under APP_HOME/envs/<key>: keys, atomic creation, reuse and pruning."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from hoist.contracts.build import BuildMetadata

# Bump when the way envs are built changes, so old envs are not reused.
ENV_FORMAT = "2"  # 2: setuptools for requirements.txt apps on Python 3.12 and older
MARKER = "hoist-env.json"
KEEP_BUILDS = 3


def env_key(python_version: str, manager: str, content: str) -> str:
    """Hash of everything that decides an env's contents."""
    h = hashlib.sha256()
    for part in (ENV_FORMAT, python_version, manager, content):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def content_hash(content: str) -> str:
    """Short hash of the lock/requirements content, kept in metadata to explain cache discards."""
    return hashlib.sha256(content.encode()).hexdigest()[:20]


class EnvStore:
    """The app's envs directory."""

    def __init__(self, app_home: Path) -> None:
        self.root = app_home / "envs"

    def path(self, key: str) -> Path:
        return self.root / key

    def ready(self, key: str) -> bool:
        """An env counts only once renamed into place with its marker written."""
        return (self.path(key) / MARKER).is_file()

    def marker(self, key: str) -> dict[str, Any]:
        try:
            data = json.loads((self.path(key) / MARKER).read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, json.JSONDecodeError):
            return {}

    def temp_path(self, key: str) -> Path:
        """Where a new env is built: beside its final place, so the rename is atomic."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f".tmp-{key}-{os.getpid()}"

    def commit(self, temp: Path, key: str, info: dict[str, Any]) -> Path:
        """Write the marker and rename the temp env into place."""
        (temp / MARKER).write_text(json.dumps(info))
        final = self.path(key)
        try:
            os.rename(temp, final)
        except OSError:
            if not self.ready(key):  # a concurrent build may have won the race
                raise
            shutil.rmtree(temp, ignore_errors=True)
        return final

    def clean_stale(self) -> None:
        """Remove temp envs of builds that died, and envs left without a marker."""
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            if entry.name.startswith(".tmp-"):
                pid = entry.name.rsplit("-", 1)[-1]
                if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
                    continue
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.is_dir() and not (entry / MARKER).is_file():
                shutil.rmtree(entry, ignore_errors=True)

    def prune(self, keep: list[str]) -> list[str]:
        """Delete envs whose key is not in `keep`; return the deleted keys."""
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        for entry in self.root.iterdir():
            if entry.name.startswith(".") or entry.name in keep or not entry.is_dir():
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
        return removed


def recent_keys(previous: BuildMetadata | None, new_key: str) -> list[str]:
    """Env keys of the last KEEP_BUILDS builds, newest first, including this one."""
    old = previous.recent_envs if previous else ()
    keys = [new_key] + [k for k in old if k != new_key]
    return keys[:KEEP_BUILDS]


def dir_size(path: Path) -> int:
    """Bytes under path, counting hard-linked files once."""
    total, seen = 0, set()
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
