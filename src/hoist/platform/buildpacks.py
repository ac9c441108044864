"""An app's buildpacks, as Heroku's `buildpacks` commands see them: hoist's builder is the Python
buildpack, so `heroku/python` (under any of the names it has had) is the one that can be set.

Heroku lists no buildpack for a new app and records the detected one at the first build; `buildpacks:set`
and `buildpacks:clear` choose explicitly (kept in the app's directory, buildpacks.json)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from hoist.platform.errors import PlatformError

PYTHON = "heroku/python"
# What heroku/python has been called: its registry name, its URNs, and the URLs of its tarball and repository.
_PYTHON_NAMES = re.compile(
    r"^(?:urn:buildpack:)?heroku/python$"
    r"|^https://(?:buildpack-registry|codon-buildpacks)\.s3\.amazonaws\.com/buildpacks/heroku/python\.tgz$"
    r"|^https://github\.com/heroku/heroku-buildpack-python(?:\.git)?/?(?:#.*)?$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*$")


def registry_url(slug: str) -> str:
    """Where Heroku's buildpack registry keeps a buildpack's tarball (what `buildpacks:set` sends). Pure."""
    return f"https://buildpack-registry.s3.amazonaws.com/buildpacks/{slug}.tgz"


def valid_slug(slug: str) -> bool:
    return bool(_SLUG.match(slug))


def normalize(updates: list[str]) -> list[str]:
    """The buildpacks a `PUT buildpack-installations` asks for, as hoist runs them; others are refused. Pure."""
    out: list[str] = []
    for name in updates:
        if not _PYTHON_NAMES.match(name.strip()):
            raise PlatformError("invalid_params", f"hoist has no buildpack {_short(name)!r}: it builds Python apps with its own "
                                "builder, which does what heroku/python does. Run `heroku buildpacks:set "
                                "heroku/python`, or `heroku buildpacks:clear` (hoist detects Python apps by itself).",
                                422, "buildpack")
        if PYTHON not in out:
            out.append(PYTHON)
    return out


def _short(name: str) -> str:
    """A registry tarball's URL as the buildpack's name (what the user typed). Pure."""
    m = re.match(r"^https://buildpack-registry\.s3\.amazonaws\.com/buildpacks/(.+)\.tgz$", name.strip())
    return m.group(1) if m else name


def installed(path: Path, built: bool) -> list[str]:
    """The app's buildpacks: those set explicitly, else heroku/python once a build detected it."""
    try:
        chosen = json.loads(path.read_text())
        return [str(b) for b in chosen]
    except (OSError, ValueError, TypeError):
        return [PYTHON] if built else []


def choose(path: Path, buildpacks: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(buildpacks))
    tmp.replace(path)
