"""nodes, nodes:drain, nodes:activate (admin): the machines dynos run on."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from hoist.cli.context import CliContext
from hoist.cli.options import pass_ctx
from hoist.cli.output import header


def _mb(n: Any) -> str:
    return f"{int(n) // (1 << 20)} MB" if isinstance(n, int) else "?"


def node_line(n: dict[str, Any]) -> str:
    """One node as `hoist nodes` prints it (pure)."""
    mem = n.get("memory") or {}
    return (f"{n['hostname']}  {n['state']}  {n['availability']}  {n['role']}  {n['address']}  "
            f"memory {_mb(mem.get('free'))} free of {_mb(mem.get('total'))}  "
            f"dynos: {', '.join(n.get('dynos') or []) or 'none'}")


@click.command("nodes")
@pass_ctx
def nodes(c: CliContext) -> None:
    """List the machines dynos run on: state, availability, role, address, memory, dynos (admin)."""
    found = c.client().get("/nodes")
    header(f"Nodes ({len(found)})")
    for n in found:
        click.echo(node_line(n))


@click.command("nodes:drain")
@click.argument("node")
@pass_ctx
def nodes_drain(c: CliContext, node: str) -> None:
    """Move the node's dynos to other nodes (each answers there before it leaves), then drain it (admin)."""
    click.echo(f"Draining {node}... ", nl=False)
    res = c.client().post(f"/nodes/{quote(node, safe='')}/actions/drain")
    moved = res.get("moved") or []
    click.echo(f"done, {len(moved)} dyno(s) moved{': ' + ', '.join(moved) if moved else ''}")


@click.command("nodes:activate")
@click.argument("node")
@pass_ctx
def nodes_activate(c: CliContext, node: str) -> None:
    """Let the node take dynos again (running dynos stay where they are) (admin)."""
    res = c.client().post(f"/nodes/{quote(node, safe='')}/actions/activate")
    click.echo(f"{res['hostname']} is active: new dynos may start on it")


COMMANDS = [nodes, nodes_drain, nodes_activate]
