"""Build log lines in buildpack style, and running subprocesses under the build deadline."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from hoist.builder.errors import BuildError

INDENT = "       "
ERROR = " !     "


class Log:
    """Writes Heroku-style build output, flushed line by line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # nobody is reading any more; the build's outcome still goes to --result

    def topic(self, message: str) -> None:
        """A step: `-----> message`."""
        self._write(f"-----> {message}")

    def info(self, message: str) -> None:
        """A detail under the current step, indented 7 spaces."""
        for line in message.splitlines() or [""]:
            self._write(INDENT + line)

    def warn(self, message: str) -> None:
        """A warning that does not fail the build (later lines of a multi-line one follow unlabelled)."""
        first, *rest = message.splitlines() or [""]
        self._write(f"{ERROR}Warning: {first}")
        for line in rest:
            self._write(ERROR + line)

    def error(self, message: str) -> None:
        """The failure lines at the end of a failed build."""
        for line in message.splitlines() or [""]:
            self._write(ERROR + line)


@dataclass
class RunResult:
    returncode: int
    lines: list[str] = field(default_factory=list)
    timed_out: bool = False  # stopped by run()'s own timeout (not the build's deadline)

    def tail(self, n: int) -> list[str]:
        return self.lines[-n:]


class Runner:
    """Runs build subprocesses with output passed through indented, enforcing one overall deadline.

    Children stay in the builder's process group so a caller killing that group stops them too;
    on our own timeout we kill the child and all its descendants.
    """

    def __init__(self, log: Log, timeout: float | None) -> None:
        self.log = log
        self.timeout = timeout
        self.started = time.monotonic()
        self.timed_out = False
        self._current: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        if timeout:
            self._timer = threading.Timer(timeout, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def close(self) -> None:
        if self._timer:
            self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.timed_out = True
            if self._current is not None:
                kill_tree(self._current.pid)

    def timeout_error(self) -> BuildError:
        return BuildError(
            f"Build timed out after {self.timeout:g} s; raise HOIST_BUILD_TIMEOUT on the hoist server "
            "(seconds) or make the build faster (e.g. use packages that ship wheels), then push again"
        )

    def check_deadline(self) -> None:
        """Raise the timeout error if the deadline passed between subprocesses."""
        if self.timed_out:
            raise self.timeout_error()

    def run(self, argv: list[str], cwd: Path, env: dict[str, str], echo: bool = True,
            hide: Callable[[str], bool] = lambda line: False, timeout: float | None = None) -> RunResult:
        """Run argv, echoing its merged output indented (but not lines `hide` picks); return the exit code and all
        lines. `timeout` bounds this one command (it is killed and the result says timed_out)."""
        self.check_deadline()
        result = RunResult(0)
        with self._lock:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1,
            )
            self._current = proc
        timer: threading.Timer | None = None
        if timeout is not None:
            def expire() -> None:
                result.timed_out = True
                kill_tree(proc.pid)
            timer = threading.Timer(timeout, expire)
            timer.daemon = True
            timer.start()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n").rstrip("\r")
                result.lines.append(line)
                if echo and not hide(line):
                    self.log.info(line)
            result.returncode = proc.wait()
        finally:
            if timer is not None:
                timer.cancel()
            with self._lock:
                self._current = None
            if proc.poll() is None:
                kill_tree(proc.pid)
                proc.wait()
        self.check_deadline()
        return result


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces or parentheses; the ppid follows the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants (Linux /proc walk)."""
    try:
        children = _children_map()
    except OSError:
        children = {}
    todo, victims = [pid], []
    while todo:
        p = todo.pop()
        victims.append(p)
        todo.extend(children.get(p, []))
    for p in victims:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
