"""Readable terminal output: aligned tables, Heroku-style headers."""
from __future__ import annotations

import json
from typing import Any, Callable, Sequence

import click


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) if c is not None else "" for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    click.echo("  ".join("─" * w for w in widths))
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def header(text: str) -> None:
    click.echo(click.style(f"=== {text}", bold=True))


def keyvals(pairs: Sequence[tuple[str, object]]) -> None:
    width = max((len(k) for k, _ in pairs), default=0)
    for k, v in pairs:
        click.echo(f"{(k + ':').ljust(width + 1)} {'' if v is None else v}")


def listing(items: Sequence[Any], *, as_json: bool, headers: Sequence[str], row: Callable[[Any], Sequence[object]],
            title: str = "", empty: str = "") -> None:
    """A list command's output: the API's JSON with --json; else the title, `empty` when there is nothing
    (it says how to add the first one), or a table with a row per item."""
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    if title:
        header(title)
    if not items and empty:
        click.echo(empty)
        return
    table(headers, [row(item) for item in items])
