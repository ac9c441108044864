"""Choosing the Python version (pure): the version files, the rules that pick one, and how a
request meets the interpreters this machine has.

The default is Heroku's current default for new apps, 3.14 (heroku-buildpack-python v323,
2025-12-05: "Changed the default Python version for new apps from 3.13 to 3.14"). Versions
below 3.10 are end-of-life and refused, unless the app opts in with HOIST_ALLOW_EOL_PYTHON."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hoist.builder.errors import BuildError

DEFAULT_MINOR = "3.14"
OLDEST_SUPPORTED = (3, 10)
EOL_OPT_IN = "HOIST_ALLOW_EOL_PYTHON"
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class VersionRequest:
    """A requested version like "3.12" or "3.12.4" and where it came from."""

    version: str
    origin: str  # e.g. "runtime.txt", ".python-version", "Pipfile.lock", "default"

    @property
    def parts(self) -> tuple[int, int, int | None]:
        m = _VERSION_RE.match(self.version)
        assert m, self.version
        return int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None

    @property
    def minor(self) -> str:
        major, minor, _ = self.parts
        return f"{major}.{minor}"

    @property
    def supported(self) -> bool:
        major, minor, _ = self.parts
        return (major, minor) >= OLDEST_SUPPORTED


@dataclass(frozen=True)
class Resolved:
    """The interpreter to build with, and what to warn about the choice."""

    version: str
    path: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Missing:
    """Nothing installed matches, but the release exists: uv may download `version`."""

    version: str


def parse_runtime_txt(text: str) -> str:
    """Return the version in runtime.txt text (`python-3.12.4` -> `3.12.4`)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    m = re.match(r"^python-(\d+\.\d+(?:\.\d+)?)$", lines[0]) if len(lines) == 1 else None
    if not m:
        shown = lines[0] if lines else "(empty)"
        raise BuildError(
            f"runtime.txt contains {shown!r}, which is not a Python version; "
            "delete runtime.txt and put a version such as 3.12 in .python-version"
        )
    return m.group(1)


def parse_python_version_file(text: str) -> str:
    """Return the version in .python-version text (`3.12` or `3.12.4`; `#` comments allowed)."""
    lines = [ln.strip() for ln in text.splitlines()]
    versions = [ln for ln in lines if ln and not ln.startswith("#")]
    if not versions:
        raise BuildError(
            ".python-version is empty; put a Python version such as 3.12 on its own line"
        )
    if len(versions) > 1:
        raise BuildError(
            f".python-version lists several versions ({', '.join(versions)}); keep exactly one, e.g. 3.12"
        )
    version = versions[0]
    if not _VERSION_RE.match(version) or not version.startswith("3."):
        raise BuildError(
            f".python-version asks for {version!r}, which is not a CPython version hoist understands; "
            "use the form 3.12 (newest 3.12.x) or 3.12.4 (exact)"
        )
    return version


def version_from_pipfile_lock(lock: dict[str, object]) -> str | None:
    """Return `_meta.requires.python_full_version` or `python_version` from a parsed Pipfile.lock."""
    meta = lock.get("_meta")
    requires = meta.get("requires") if isinstance(meta, dict) else None
    if not isinstance(requires, dict):
        return None
    for key in ("python_full_version", "python_version"):
        value = requires.get(key)
        if isinstance(value, str) and _VERSION_RE.match(value.strip()):
            return value.strip()
    return None


def choose_request(
    runtime_txt: str | None,
    python_version_file: str | None,
    pipfile_lock_version: str | None,
    conda_version: str | None,
    previous_version: str | None,
) -> tuple[VersionRequest, list[str]]:
    """Pick the version request, first match wins; return it with warnings to print."""
    warnings: list[str] = []
    if runtime_txt is not None:
        req = VersionRequest(parse_runtime_txt(runtime_txt), "runtime.txt")
        warnings.append(f"runtime.txt is deprecated; delete it and put {req.minor} in a .python-version file instead")
    elif python_version_file is not None:
        req = VersionRequest(parse_python_version_file(python_version_file), ".python-version")
    elif pipfile_lock_version is not None:
        req = VersionRequest(pipfile_lock_version, "Pipfile.lock")
    elif conda_version is not None:
        req = VersionRequest(conda_version, "environment.yml")
    elif previous_version is not None:
        req = VersionRequest(previous_version, "the previous build")
    else:
        req = VersionRequest(DEFAULT_MINOR, "default")
    return req, warnings


def _as_written(req: VersionRequest) -> str:
    return f"python-{req.version}" if req.origin == "runtime.txt" else req.version


def _fix_prefix(req: VersionRequest) -> str:
    # runtime.txt wins over .python-version, so a fix that keeps it changes nothing.
    return "delete runtime.txt and " if req.origin == "runtime.txt" else ""


def _minor_of(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _newest(versions: list[str]) -> str:
    return max(versions, key=version_key)


def upgrade_target(installed: dict[str, str]) -> str:
    """The minor to suggest when a version must change: the default if it is here, else the newest supported one here."""
    minors = {_minor_of(v) for v in installed if version_key(v)[:2] >= OLDEST_SUPPORTED}
    if DEFAULT_MINOR in minors or not minors:
        return DEFAULT_MINOR
    return _newest(list(minors))


def resolve(req: VersionRequest, known: set[str], installed: dict[str, str], allow_eol: bool = False) -> Resolved | Missing:
    """Match a request against known CPython releases and installed interpreters.

    A minor like 3.12 gets the newest installed 3.12.x; an exact 3.12.0 that is not installed gets the
    newest installed 3.12.x with a warning; a release with no installed sibling is Missing (uv may download it)."""
    if not req.supported:
        return _resolve_end_of_life(req, installed, allow_eol)
    _, _, patch = req.parts
    same_minor = [v for v in installed if _minor_of(v) == req.minor]
    if patch is None:
        if same_minor:
            best = _newest(same_minor)
            return Resolved(best, installed[best])
        if known and not any(_minor_of(v) == req.minor for v in known):
            raise _not_recognised(req, installed)
        return Missing(req.version)
    if req.version in installed:
        return Resolved(req.version, installed[req.version])
    if known and req.version not in known:
        raise _not_recognised(req, installed)
    if same_minor:
        best = _newest(same_minor)
        return Resolved(best, installed[best], (
            f"Python {req.version} (from {req.origin}) isn't installed on this machine; using {best}, the newest "
            f"installed {req.minor} release. Put {req.minor} in .python-version to get the newest {req.minor}.x",))
    return Missing(req.version)


def _not_recognised(req: VersionRequest, installed: dict[str, str]) -> BuildError:
    return BuildError(
        f"Python {req.version} (from {req.origin}) isn't recognised: no such CPython release exists; "
        f"{_fix_prefix(req)}put an existing version such as {upgrade_target(installed)} in .python-version"
    )


def _resolve_end_of_life(req: VersionRequest, installed: dict[str, str], allow_eol: bool) -> Resolved:
    """Refuse an end-of-life version, offering the upgrade and the opt-in; with the opt-in, build on it."""
    same_minor = [v for v in installed if _minor_of(v) == req.minor]
    here = req.version if req.version in installed else (_newest(same_minor) if same_minor else None)
    upgrade = upgrade_target(installed)
    if not allow_eol:
        anyway = (f", or, to build on this machine's end-of-life Python {here} anyway, run "
                  f"`hoist config:set {EOL_OPT_IN}=1` and push again") if here else ""
        raise BuildError(
            f"{req.origin} asks for {_as_written(req)}, which reached end-of-life; "
            f"{_fix_prefix(req)}put {upgrade} in .python-version{anyway}"
        )
    if here is None:
        eol_here = sorted((v for v in installed if version_key(v)[:2] < OLDEST_SUPPORTED), key=version_key)
        raise BuildError(
            f"{EOL_OPT_IN} is set, but no Python {req.minor} is installed on this machine (end-of-life versions "
            f"here: {', '.join(eol_here) or 'none'}); install it on the hoist server (e.g. `pyenv install "
            f"{req.minor}`), or {_fix_prefix(req)}put {upgrade} in .python-version, then push again"
        )
    warnings = [f"Python {here} reached end-of-life and gets no security fixes; this app builds on it only because "
                f"{EOL_OPT_IN} is set. Upgrade when you can: {_fix_prefix(req)}put {upgrade} in .python-version"]
    if here != req.version and req.parts[2] is not None:
        warnings.append(f"Python {req.version} (from {req.origin}) isn't installed on this machine; using {here}, "
                        f"the newest installed {req.minor} release")
    return Resolved(here, installed[here], tuple(warnings))


def unavailable(req: VersionRequest, installed: dict[str, str], reason: str) -> BuildError:
    """The error when the requested release is neither installed nor downloadable here."""
    usable = [v for v in installed if version_key(v)[:2] >= OLDEST_SUPPORTED]
    available = ", ".join(sorted(usable, key=version_key)) or "none"
    return BuildError(
        f"Python {req.version} (from {req.origin}) isn't available on this machine (available: {available}) and "
        f"could not be downloaded ({reason}); {_fix_prefix(req)}put `{upgrade_target(installed)}` in .python-version, "
        f"or install Python {req.version} on the hoist server (e.g. `pyenv install {req.version}`), then push again"
    )


def default_fallback(installed: dict[str, str], reason: str) -> Resolved:
    """No version was asked for and the default cannot be had: the newest supported interpreter here."""
    usable = [v for v in installed if version_key(v)[:2] >= OLDEST_SUPPORTED]
    if not usable:
        raise unavailable(VersionRequest(DEFAULT_MINOR, "default"), installed, reason)
    best = _newest(usable)
    return Resolved(best, installed[best], (
        f"No Python version was specified, and the default (Python {DEFAULT_MINOR}) isn't installed on this "
        f"machine and could not be downloaded ({reason}); using {best}, the newest installed. "
        f"Put {_minor_of(best)} in a .python-version file so the version never changes under you",))


def default_warning(version: str) -> str:
    return (f"No Python version was specified; using the default, Python {_minor_of(version)}. "
            f"Put {_minor_of(version)} in a .python-version file so the version never changes under you")


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for dotted version strings."""
    return tuple(int(p) for p in version.split(".") if p.isdigit())
