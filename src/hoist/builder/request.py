"""What one build is asked to do: the pushed tree, where the app's envs and caches live, and
the app's build environment."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hoist.contracts.build import BuildMetadata


@dataclass(frozen=True)
class BuildRequest:
    source: Path
    app_home: Path
    uv_cache: Path
    uv: str
    previous: BuildMetadata | None  # what the previous successful build remembered
    env: dict[str, str]  # the build environment: PATH, HOME, LANG and the app's config vars
    allow_eol: bool = False  # the app set HOIST_ALLOW_EOL_PYTHON: build on an installed end-of-life Python
