"""After a failed install: every requirement that cannot be installed, in one push.

uv stops at the first unresolvable requirement. When that one is a line of the app's
requirements, the same file is resolved again without it (`uv pip compile`, nothing is
installed), and again, until it resolves or the next culprit is not a line of the file:
a `pip freeze` from conda with a dozen `pkg @ file:///...` lines costs one push, not twelve.
Each round is one resolution from uv's warm cache; the whole search is bounded in time."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from hoist.builder import failures, reqfile
from hoist.builder.errors import BuildError
from hoist.builder.failures import Problem
from hoist.builder.output import RunResult, Runner
from hoist.builder.reqfile import ReqLine

BUDGET = 90.0
MAX_PROBLEMS = 40
CHECK_FILE = ".hoist-check-requirements.txt"


@dataclass(frozen=True)
class Found:
    problem: Problem
    line: ReqLine | None  # the line of the requirements that asks for it, when there is one


def collect(runner: Runner, uv: str, text: str | None, first: Problem, python: str, source: Path,
            venv_python: str, env: dict[str, str]) -> list[Found]:
    """The first problem, then every further one found by resolving without the lines already blamed."""
    lines = reqfile.parse_lines(text) if text is not None else []
    found = [Found(first, reqfile.find(lines, first.requirement))]
    if text is None or found[0].line is None:
        return found
    runner.log.topic("Install failed; checking the other requirements, so that this push names every problem")
    excluded = [found[0].line]
    deadline = time.monotonic() + BUDGET
    check = source / CHECK_FILE
    try:
        while len(found) < MAX_PROBLEMS and time.monotonic() < deadline:
            check.write_text(reqfile.without(text, excluded))
            res = runner.run([uv, "pip", "compile", "--python", venv_python, "--no-header", "--no-annotate",
                              "--quiet", "--output-file", "/dev/null", CHECK_FILE],
                             cwd=source, env=env, echo=False, timeout=max(1.0, deadline - time.monotonic()))
            if res.returncode == 0 or res.timed_out:
                break
            problem = failures.first_problem(res.lines, python)
            if problem is None:
                break
            line = reqfile.find(lines, problem.requirement)
            found.append(Found(problem, line if line not in excluded else None))
            if line is None or line in excluded:
                break  # a dependency of a dependency, or a conflict between lines: uv's words say it
            excluded.append(line)
    finally:
        check.unlink(missing_ok=True)
    return found


def install_error(manager_file: str, found: list[Found], python: str) -> BuildError:
    """Every problem with its line, the last lines of a failed build next to uv's line naming it, and hints."""
    out = [f"Could not install the packages in {manager_file}:"]
    hints: list[str] = []
    for f in sorted(found, key=lambda f: f.line.first if f.line else 1 << 30):
        p = f.problem
        if p.build_output:
            at = f" ({manager_file} line {f.line.first})" if f.line else ""
            out.append(f"Failed to build `{p.requirement}`{at}; the last lines of its build output:")
            out += ["  " + ln for ln in p.build_output]
        elif f.line:
            out.append(f"line {f.line.first}: {f.line.text.split(' --hash', 1)[0]}: {p.reason}")
        else:
            out.append(f"{p.requirement}: {p.reason}")
        hints += [h for h in failures.hints(p, python, manager_file) if h not in hints]
    out += [f"Hint: {h}" for h in hints]
    if any(not f.problem.build_output for f in found):
        out.append(f"Hint: check the package names and versions in {manager_file} (they must exist on PyPI for "
                   f"Python {python}), fix the file and push again")
    return BuildError("\n".join(out))


def unparsed_error(manager_file: str, res: RunResult) -> BuildError:
    """A failure whose output names no requirement: uv's own diagnosis (or the last lines) and the generic hint."""
    text = "\n".join(res.lines)
    compile_signs = ("Failed to build", "Build backend failed", "error: command", "gcc", "fatal error:")
    if any(s in text for s in compile_signs):
        tail = "\n".join(res.tail(20))
        return BuildError(
            f"A package in {manager_file} failed to build from source. Last lines of the build output:\n"
            f"{tail}\n"
            "Hint: pin a version that ships a wheel for this Python version, or install the "
            "missing system library/compiler on the hoist server, then push again"
        )
    block = [ln.strip() for ln in failures.error_block(res.lines) if ln.strip()] or res.tail(10)
    shown = "\n".join(block[-15:])
    return BuildError(
        f"Could not install the packages in {manager_file}:\n{shown}\n"
        f"Hint: check the package names and versions in {manager_file} (they must exist on PyPI "
        "for this Python version), fix the file and push again"
    )
