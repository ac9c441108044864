"""The CLI's one error type: printed on stderr, exit status 1."""
from __future__ import annotations

import sys
from typing import Any

import click


class LineTracker:
    """Wraps stdout to remember whether the last line is unfinished (`Rolling back... ` before an error)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.partial = False

    def write(self, text: Any) -> int:
        if isinstance(text, str) and text:
            self.partial = not text.endswith("\n")
        return int(self._stream.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def track_stdout() -> None:
    """Install the LineTracker on sys.stdout (once)."""
    if sys.stdout is not None and not isinstance(sys.stdout, LineTracker):
        sys.stdout = LineTracker(sys.stdout)  # type: ignore[assignment]


class HoistError(click.ClickException):
    def show(self, file=None) -> None:  # type: ignore[no-untyped-def, override]
        out = sys.stdout
        if isinstance(out, LineTracker) and out.partial:
            click.echo("!")  # end `Doing X... ` the way heroku's spinner does, so the error gets its own line
        click.echo(f" !    {self.message}", err=True)
