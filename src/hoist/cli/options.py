"""Options shared by the commands."""
from __future__ import annotations

from typing import Any, Callable

import click

from hoist.cli.context import CliContext


def app_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """-a/--app APP; defaults to the app of the git remote `hoist`."""
    def store(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value:
            ctx.ensure_object(CliContext).app_flag = value
        return value
    return click.option("-a", "--app", "app_name", expose_value=False, callback=store, is_eager=True,
                        help="the app (default: the git remote `hoist`)")(f)


pass_ctx = click.make_pass_decorator(CliContext, ensure=True)
