"""A release as the dynos run it: what the platform hands the supervisor.

The platform builds one from a release row and its slug (Platform.run_release);
the supervisor, the release phase, postdeploy and one-off dynos only read it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RunRelease:
    """An immutable release: its Procfile's process types, its unpacked slug, its config snapshot."""
    id: str
    version: int
    process_types: dict[str, str]
    slug_dir: Path
    env_dir: Path | None
    config: dict[str, str] = field(repr=False)  # holds secrets: never logged
    health_path: str | None = None  # from app.json: ready means it answers 2xx/3xx
