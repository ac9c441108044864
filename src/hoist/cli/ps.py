"""ps, ps:scale, ps:restart, ps:stop, ps:sleep."""
from __future__ import annotations

from datetime import datetime, timezone

import click

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header
from hoist.cli.parsing import ArgError, parse_scale


def _since(ts: str) -> str:
    try:
        then = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    secs = int((datetime.now(timezone.utc) - then).total_seconds())
    if secs < 60:
        return f"{secs}s ago"
    if secs < 3600:
        return f"{secs // 60}m ago"
    return f"{secs // 3600}h {secs % 3600 // 60}m ago"


@click.command("ps")
@app_option
@pass_ctx
def ps(c: CliContext) -> None:
    """List the app's dynos."""
    app = c.app()
    dynos = c.client().get(f"/apps/{app}/dynos")
    if not dynos:
        click.echo(f"No dynos on {app}. Push code with a Procfile, or scale with `hoist ps:scale web=1`.")
        return
    by_type: dict[str, list[dict]] = {}
    for d in dynos:
        by_type.setdefault(d["type"], []).append(d)
    for ptype, ds in sorted(by_type.items()):
        header(f"{ptype} ({len(ds)}): {ds[0]['command']}")
        for d in ds:
            mem = d.get("memory_mb")
            memory = f" {mem:.0f} MB" if isinstance(mem, (int, float)) else ""
            node = f" on {d['node']}" if d.get("node") else ""  # a swarm node
            click.echo(f"{d['name']}: {d['state']} {_since(d['updated_at'])} (v{d['release']['version']}){memory}{node}")
        click.echo()


@click.command("ps:scale")
@app_option
@click.argument("specs", nargs=-1)
@pass_ctx
def ps_scale(c: CliContext, specs: tuple[str, ...]) -> None:
    """Scale process types: web=2 worker=1, worker+1, web-1. No arguments: show the formation."""
    app = c.app()
    client = c.client()
    formation = client.get(f"/apps/{app}/formation")
    current = {f["type"]: f["quantity"] for f in formation}
    if not specs:
        click.echo(" ".join(f"{t}={q}" for t, q in sorted(current.items())) or "no process types yet")
        return
    try:
        updates = parse_scale(list(specs), current)
    except ArgError as exc:
        raise HoistError(str(exc)) from None
    click.echo("Scaling dynos... ", nl=False)
    result = client.patch(f"/apps/{app}/formation",
                          {"updates": [{"type": t, "quantity": q} for t, q in updates.items()]}).json()
    click.echo("done, now running " + ", ".join(f"{f['type']} at {f['quantity']}" for f in result))


@click.command("ps:restart")
@app_option
@click.argument("target", required=False)
@pass_ctx
def ps_restart(c: CliContext, target: str | None) -> None:
    """Restart all dynos, a process type (web) or one dyno (web.1)."""
    app = c.app()
    click.echo(f"Restarting {target or 'all'} dynos on {app}... ", nl=False)
    c.client().delete(f"/apps/{app}/dynos/{target}" if target else f"/apps/{app}/dynos")
    click.echo("done")


@click.command("ps:stop")
@app_option
@click.argument("target")
@pass_ctx
def ps_stop(c: CliContext, target: str) -> None:
    """Stop a dyno (web.1) or every dyno of a type; the formation starts them again (scale to 0 to keep them off)."""
    app = c.app()
    click.echo(f"Stopping {target} on {app}... ", nl=False)
    c.client().post(f"/apps/{app}/dynos/{target}/actions/stop", {})
    ptype = target.partition(".")[0]
    if ptype == "run":
        click.echo("done")  # a one-off dyno is not in the formation: it stays stopped
    else:
        click.echo(f"done (the formation starts it again; `hoist ps:scale {ptype}=0` keeps it off)")


@click.command("ps:sleep")
@app_option
@click.argument("mode", required=False, type=click.Choice(["on", "off"]))
@pass_ctx
def ps_sleep(c: CliContext, mode: str | None) -> None:
    """Let idle web dynos sleep (on) or keep them running (off); no argument: show the setting."""
    app = c.app()
    client = c.client()
    if mode is None:
        state = client.get(f"/apps/{app}/sleep")
    else:
        state = client.patch(f"/apps/{app}/sleep", {"enabled": mode == "on"}).json()
    if state["enabled"]:
        now = "asleep now" if state["asleep"] else "awake now"
        click.echo(f"Sleep is on for {app}: web dynos idle after {state['after_minutes']:g} minutes without "
                   f"requests and wake on the next one ({now}).")
    else:
        click.echo(f"Sleep is off for {app}: its web dynos keep running.")


COMMANDS = [ps, ps_scale, ps_restart, ps_stop, ps_sleep]
