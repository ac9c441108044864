"""What the builder hands the platform, and what the push hands the hook.

The builder runs as a subprocess (`python -m hoist.builder`) and writes its
BuildResult as JSON to the --result file (`write_result`); the pipeline reads
it back (`read_result`). The push's last line tells the pre-receive hook
whether to let the push through (`result_line`, `read_result_line`, in
pushresult.py, which the hook imports alone). Standard library only."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hoist.contracts import appjson
from hoist.contracts.appjson import AppJson


@dataclass(frozen=True, slots=True)
class BuildMetadata:
    """What a build remembers for the next one: the platform stores it with the app and hands
    it back as --previous, without reading it."""
    python_version: str | None = None
    manager: str | None = None
    manager_file: str | None = None
    content_hash: str | None = None
    env_key: str | None = None
    recent_envs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "python_version": self.python_version, "manager": self.manager, "manager_file": self.manager_file,
            "content_hash": self.content_hash, "env_key": self.env_key, "recent_envs": list(self.recent_envs),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BuildMetadata:
        """Lenient: a field of an older or damaged record reads as unknown (a missing cache costs a reinstall)."""
        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        recent = data.get("recent_envs")
        return cls(
            python_version=text("python_version"), manager=text("manager"), manager_file=text("manager_file"),
            content_hash=text("content_hash"), env_key=text("env_key"),
            recent_envs=tuple(k for k in recent if isinstance(k, str)) if isinstance(recent, list) else (),
        )


def read_metadata(path: Path) -> BuildMetadata | None:
    """The --previous file: a build's metadata (or a whole previous result); None if unreadable,
    since a broken cache record only costs a reinstall."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if isinstance(data, dict) and isinstance(data.get("metadata"), dict):
        data = data["metadata"]
    return BuildMetadata.from_json(data) if isinstance(data, dict) else None


@dataclass(frozen=True, slots=True)
class BuildResult:
    """A successful build: the slug's process types, its virtualenv, and what app.json asked for."""
    process_types: Mapping[str, str]
    env_dir: str
    python_version: str
    slug_size: int
    app_json: AppJson | None
    metadata: BuildMetadata = field(default_factory=BuildMetadata)

    def to_json(self) -> dict[str, Any]:
        return {
            "metadata": self.metadata.to_json(),
            "process_types": dict(self.process_types),
            "app_json": self.app_json.to_json() if self.app_json is not None else None,
            "env_dir": self.env_dir,
            "python_version": self.python_version,
            "slug_size": self.slug_size,
        }


def dump_result(result: BuildResult) -> str:
    return json.dumps(result.to_json(), indent=2)


def parse_result(text: str) -> BuildResult:
    """The builder's --result file; raises ValueError if it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the builder's result is not a JSON object")
    types, env_dir, python = data.get("process_types"), data.get("env_dir"), data.get("python_version")
    if not isinstance(types, dict) or not all(isinstance(v, str) for v in types.values()):
        raise ValueError("the builder's result has no process types")
    if not isinstance(env_dir, str) or not isinstance(python, str):
        raise ValueError("the builder's result names no virtualenv or Python version")
    raw_json, metadata = data.get("app_json"), data.get("metadata")
    return BuildResult(
        process_types=types, env_dir=env_dir, python_version=python, slug_size=int(data.get("slug_size") or 0),
        app_json=appjson.from_json(raw_json) if raw_json is not None else None,
        metadata=BuildMetadata.from_json(metadata if isinstance(metadata, dict) else {}),
    )


def write_result(path: Path, result: BuildResult) -> None:
    """Write the result atomically: the platform never reads half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dump_result(result))
    os.replace(tmp, path)


def read_result(path: Path) -> BuildResult:
    return parse_result(path.read_text())
