"""The CLI's one error type: printed on stderr, exit status 1."""
from __future__ import annotations

import click


class HoistError(click.ClickException):
    def show(self, file=None) -> None:  # type: ignore[no-untyped-def, override]
        click.echo(f" !    {self.message}", err=True)
