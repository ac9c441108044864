"""What failed in a uv install, read from uv's output (pure): the requirement it names, why,
the last lines of a failed package build, and hints for the failures old apps meet."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hoist.builder.reqfile import normalize

BUILD_TAIL = 12
_FAILED_BUILD = re.compile(r"Failed to (?:download and )?build `([^`]+)`")
_NOT_FOUND_AT = re.compile(r"Distribution not found at: (\S+)")
_NO_VERSION = re.compile(r"there is no version of ([^\s,]+)")
_NOT_IN_REGISTRY = re.compile(r"Because (\S+) was not found in the package registry and you require ([^\s,]+)")
_ONLY = re.compile(r"Because only (.+?) (?:is|are) available and you require ([^\s,]+)")
_PYTHON = re.compile(r"does not satisfy (Python\S+) and ([^\s,]+) depends on Python")
_NO_WHEELS = re.compile(r"Because ([^\s,]+) has no wheels with a matching Python (?:ABI |version |platform )?tag")
_YOU_REQUIRE = re.compile(r"you require ([^\s,]+)")
_COLLECTIONS = re.compile(r"cannot import name '(\w+)' from 'collections'")
# Packages of conda itself, which `pip freeze` lists in a conda environment but PyPI does not have.
CONDA_OWN = {"conda", "conda-build", "conda-package-handling", "conda-verify", "conda-content-trust",
             "conda-libmamba-solver", "conda-token", "anaconda-client", "anaconda-navigator", "anaconda-project",
             "navigator-updater", "menuinst", "clyent", "_ipyw-jlab-nb-ext-conf"}


@dataclass(frozen=True)
class Problem:
    """One requirement uv could not install: as uv names it (`psycopg2==2.7.3.2`, or a URL) and why."""

    requirement: str
    reason: str
    build_output: tuple[str, ...] = ()  # the last lines of its own build output, for a failed build

    @property
    def name(self) -> str:
        return normalize(re.split(r"[\s\[=<>!~;@]", self.requirement, maxsplit=1)[0])

    @property
    def version(self) -> str:
        return self.requirement.split("==", 1)[1] if "==" in self.requirement else ""


def error_block(lines: list[str]) -> list[str]:
    """uv's diagnosis: everything from its first `error:` line (it prints it last)."""
    starts = [i for i, ln in enumerate(lines) if ln.lstrip().startswith(("error:", "×"))]
    return lines[starts[0]:] if starts else []


def _cause_text(block: list[str]) -> str:
    """The `cause:` sentences of an error block as one line."""
    text = []
    for ln in block[1:]:
        s = ln.strip()
        if s.startswith("hint:"):
            break
        text.append(s[len("cause:"):].strip() if s.startswith("cause:") else s)
    return " ".join(t for t in text if t)


def build_tail(block: list[str], n: int = BUILD_TAIL) -> tuple[str, ...]:
    """The last lines a failed package build printed (uv indents them under [stdout]/[stderr])."""
    body: list[str] = []
    for ln in block[1:]:
        s = ln.strip()
        if s.startswith("hint:") or s.startswith("help:"):
            break
        if not s or s.startswith("cause:") or s in ("[stdout]", "[stderr]"):
            continue
        body.append(ln.rstrip())
    tail = body[-n:]
    indent = min((len(ln) - len(ln.lstrip()) for ln in tail), default=0)  # uv's own indent; the compiler's stays
    return tuple(ln[indent:] for ln in tail)


def first_problem(lines: list[str], python: str) -> Problem | None:
    """The requirement uv's failure names, and why in one line; None when the output names none."""
    block = error_block(lines)
    if not block:
        return None
    head = block[0]
    built = _FAILED_BUILD.search(head) or next((m for ln in block[:3] for m in [_FAILED_BUILD.search(ln)] if m), None)
    if built:
        tail = build_tail(block)
        return Problem(built.group(1), "failed to build from source", tail)
    found = _NOT_FOUND_AT.search(head)
    if found:
        where = "this repository" if found.group(1).startswith("file://") else "its URL"
        return Problem(found.group(1), f"not found (it is not in {where})")
    cause = _cause_text(block)
    for pattern, group, reason in (
        (_NO_VERSION, 1, "no such version on the package index"),
        (_NOT_IN_REGISTRY, 2, "no such package on the package index"),
        (_NO_WHEELS, 1, f"no wheel for Python {python}, and no source to build one from"),
    ):
        m = pattern.search(cause)
        if m:
            return Problem(m.group(group), reason)
    m = _ONLY.search(cause)
    if m:
        return Problem(m.group(2), f"only {m.group(1)} exists on the package index")
    m = _PYTHON.search(cause)
    if m:
        return Problem(m.group(2), f"needs {m.group(1)} (this build uses Python {python})")
    required = _YOU_REQUIRE.findall(cause)
    if required:
        sentence = re.sub(r",? we can conclude that your requirements are unsatisfiable\.?$", "", cause)
        return Problem(required[-1], sentence.removeprefix("Because ").strip())
    return None


def hints(problem: Problem, python: str, manager_file: str = "requirements.txt") -> list[str]:
    """What to do about a problem old apps meet often; empty when there is nothing specific to say."""
    name, version, output = problem.name, problem.version, "\n".join(problem.build_output)
    pkg = f"{name} {version}".strip()
    local = problem.requirement.startswith("file:") or "@ file:" in problem.requirement
    if local and problem.build_output:
        return [f"{name} is built from source in this repository; fix the error in its build output above (or install "
                "the system library or compiler it needs on the hoist server), then push again"]
    if local:
        return ["lines like `pkg @ file:///...` come from `pip freeze` in a conda environment and name paths on "
                "that machine; replace each with `pkg==VERSION` (`pip list --format=freeze` prints them so)"]
    if name in CONDA_OWN:
        return [f"{name} is part of conda itself and is not installable from PyPI; delete its line"]
    if name in ("mkl-fft", "mkl-random", "mkl-service"):
        return [f"{name} comes from Anaconda's channel, not PyPI; delete its line (numpy from PyPI does not need it)"]
    if problem.build_output:
        return [_build_hint(problem, pkg, output, python, manager_file)]
    if problem.reason.startswith("needs Python"):
        return [f"pin a version of {name} that supports Python {python}, or choose another Python in .python-version"]
    if problem.reason.startswith("no wheel for Python"):
        return [f"{pkg} predates Python {python}; pin a newer {name} that ships a wheel for it"]
    if problem.reason.startswith(("no such version", "only ")):
        return [f"the versions of {name} that exist are listed at https://pypi.org/project/{name}/#history"]
    if problem.reason.startswith("no such package"):
        return [f"check the spelling of {name}: https://pypi.org/project/{name}/ does not exist"]
    return []


def _build_hint(problem: Problem, pkg: str, output: str, python: str, manager_file: str) -> str:
    name = problem.name
    if name == "psycopg2":
        libpq = " (or install libpq-dev on the hoist server)" if "pg_config executable not found" in output else ""
        return (f"{pkg} has no wheel for Python {python} and does not compile here{libpq}; replace "
                f"`{problem.requirement}` with `psycopg2-binary` in {manager_file} (the same module, prebuilt)")
    if "cannot import name 'Feature'" in output:
        better = " (MarkupSafe==1.1.1 works with the same Flask and Jinja2)" if name == "markupsafe" else ""
        return f"{pkg}'s setup.py uses setuptools.Feature, removed in setuptools 46 (2020); pin a newer {name}{better}"
    if "No module named 'distutils'" in output:
        return (f"{pkg} builds with distutils, which Python 3.12 removed; pin a newer {name} that ships a wheel "
                f"for Python {python}, or build on Python 3.11 (put 3.11 in .python-version)")
    if "No module named 'pkg_resources'" in output:
        return (f"{pkg}'s build imports pkg_resources, which setuptools 81 and newer no longer include; "
                f"pin a newer {name}")
    abc = _COLLECTIONS.search(output)
    if abc:
        return (f"{pkg} imports {abc.group(1)} from `collections`, which Python 3.10 removed (it lives in "
                f"collections.abc); pin a newer {name}")
    if "Missing parentheses in call to 'print'" in output or "print " in output and "SyntaxError" in output:
        return f"{pkg} is Python 2 code; pin a version of {name} that supports Python 3"
    if "can't find Rust compiler" in output or "rustc" in output:
        return f"{pkg} needs Rust to build from source; pin a newer {name} that ships a wheel for Python {python}"
    return (f"{pkg} has no wheel for Python {python} and failed to compile; pin a newer {name} that ships a wheel "
            "for this Python version, or install the missing system library/compiler on the hoist server")
