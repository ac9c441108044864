"""pipelines, pipelines:create, :add, :info, :remove, :destroy, :promote: apps in stages, and promoting the
very slug a staging app runs to the app(s) downstream (no rebuild)."""
from __future__ import annotations

import time
from typing import Any

import click

from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import header, table

STAGES = ("review", "development", "staging", "production")
ORDER = ("development", "staging", "production")
PROMOTION_TIMEOUT = 1800.0


def infer_stage(app: str) -> str | None:
    """Heroku's guess from the app's name: -staging, -dev, -prod..."""
    for suffix, stage in (("-staging", "staging"), ("-stage", "staging"), ("-dev", "development"),
                          ("-development", "development"), ("-prod", "production"), ("-production", "production")):
        if app.endswith(suffix):
            return stage
    return None


def _stage(stage: str | None, app: str) -> str:
    stage = stage or infer_stage(app)
    if stage is None:
        raise HoistError(f"Say which stage {app} is at: --stage staging (or production, development, review).")
    return stage


@click.command("pipelines")
@pass_ctx
def pipelines_list(c: CliContext) -> None:
    """List your pipelines."""
    found = c.client().get("/pipelines")
    header("My Pipelines")
    for p in found:
        click.echo(p["name"])
    if not found:
        click.echo("No pipelines. Create one with `hoist pipelines:create NAME -a APP --stage staging`.")


@click.command("pipelines:create")
@app_option
@click.argument("name")
@click.option("-s", "--stage", type=click.Choice(STAGES), default=None, help="the stage of the app")
@pass_ctx
def pipelines_create(c: CliContext, name: str, stage: str | None) -> None:
    """Create pipeline NAME with the app as its first member."""
    app = c.app()
    stage = _stage(stage, app)
    client = c.client()
    pipeline = client.post("/pipelines", {"name": name})
    try:
        client.post("/pipeline-couplings", {"app": app, "pipeline": pipeline["id"], "stage": stage})
    except HoistError:
        client.delete(f"/pipelines/{pipeline['id']}")  # no empty pipeline left behind
        raise
    click.echo(f"Created pipeline {pipeline['name']} with {app} at {stage}")


@click.command("pipelines:add")
@app_option
@click.argument("pipeline")
@click.option("-s", "--stage", type=click.Choice(STAGES), default=None, help="the stage of the app")
@pass_ctx
def pipelines_add(c: CliContext, pipeline: str, stage: str | None) -> None:
    """Add the app to PIPELINE at a stage."""
    app = c.app()
    stage = _stage(stage, app)
    client = c.client()
    p = client.get(f"/pipelines/{pipeline}")
    client.post("/pipeline-couplings", {"app": app, "pipeline": p["id"], "stage": stage})
    click.echo(f"Added {app} to {p['name']} at {stage}")


@click.command("pipelines:info")
@click.argument("pipeline")
@pass_ctx
def pipelines_info(c: CliContext, pipeline: str) -> None:
    """The apps of PIPELINE by stage, with the release each runs."""
    client = c.client()
    p = client.get(f"/pipelines/{pipeline}")
    couplings = client.get(f"/pipelines/{p['id']}/pipeline-couplings")
    header(p["name"])
    rows = []
    for cp in sorted(couplings, key=lambda x: (STAGES.index(x["stage"]) if x["stage"] in STAGES else 9,
                                               x["app"]["name"])):
        releases = client.get(f"/apps/{cp['app']['name']}/releases")
        current = next((r for r in reversed(releases) if r.get("current")), None)
        rows.append([cp["app"]["name"], cp["stage"],
                     f"v{current['version']} {current['description']}" if current else "none"])
    if rows:
        table(["App", "Stage", "Release"], rows)
    else:
        click.echo("No apps. Add one with `hoist pipelines:add " + p["name"] + " -a APP --stage staging`.")


@click.command("pipelines:remove")
@app_option
@pass_ctx
def pipelines_remove(c: CliContext) -> None:
    """Take the app out of its pipeline (the app stays)."""
    app = c.app()
    client = c.client()
    coupling = client.get(f"/apps/{app}/pipeline-couplings")
    client.delete(f"/pipeline-couplings/{coupling['id']}")
    click.echo(f"Removed {app} from {coupling['pipeline']['name']}")


@click.command("pipelines:destroy")
@click.argument("pipeline")
@pass_ctx
def pipelines_destroy(c: CliContext, pipeline: str) -> None:
    """Destroy PIPELINE (its apps stay, out of any pipeline)."""
    client = c.client()
    p = client.get(f"/pipelines/{pipeline}")
    client.delete(f"/pipelines/{p['id']}")
    click.echo(f"Destroyed pipeline {p['name']}")


def _targets(couplings: list[dict[str, Any]], source: str, stage: str, to: str | None) -> list[dict[str, Any]]:
    if to:
        wanted = [t for t in to.split(",") if t]
        out = []
        for name in wanted:
            if name == source:
                raise HoistError(f"Cannot promote {source} to itself: name a downstream app with --to.")
            # An app outside the pipeline goes to the API as named: its answer says what to do.
            out.append(next((cp["app"] for cp in couplings if name in (cp["app"]["name"], cp["app"]["id"])),
                            {"name": name}))
        return out
    if stage not in ORDER or stage == ORDER[-1]:
        raise HoistError(f"{source} is at {stage}: there is no stage after it to promote to. Name the apps with --to.")
    nxt = ORDER[ORDER.index(stage) + 1]
    out = [cp["app"] for cp in couplings if cp["stage"] == nxt]
    if not out:
        raise HoistError(f"Cannot promote from {source}: its pipeline has no app at {nxt}. Add one with "
                         f"`hoist pipelines:add PIPELINE -a APP --stage {nxt}`.")
    return out


@click.command("pipelines:promote")
@app_option
@click.option("-t", "--to", default=None, help="comma-separated apps to promote to (default: the next stage's)")
@pass_ctx
def pipelines_promote(c: CliContext, to: str | None) -> None:
    """Promote the app's current slug to its downstream app(s): a new release of each, without a rebuild."""
    app = c.app()
    client = c.client()
    coupling = client.get(f"/apps/{app}/pipeline-couplings")
    couplings = client.get(f"/pipelines/{coupling['pipeline']['id']}/pipeline-couplings")
    targets = _targets(couplings, app, coupling["stage"], to)
    names = ", ".join(t.get("name") or t["id"] for t in targets)
    click.echo(f"Promoting {app} to {names}...")
    started = time.monotonic()
    promotion = client.post("/pipeline-promotions", {
        "pipeline": {"id": coupling["pipeline"]["id"]}, "source": {"app": {"id": coupling["app"]["id"]}},
        "targets": [{"app": {"id": t["id"]} if "id" in t else {"name": t["name"]}} for t in targets]})
    while True:
        results = client.get(f"/pipeline-promotions/{promotion['id']}/promotion-targets")
        if all(r["status"] != "pending" for r in results) or time.monotonic() - started > PROMOTION_TIMEOUT:
            break
        time.sleep(0.2)
    by_id = {cp["app"]["id"]: cp["app"]["name"] for cp in couplings}
    failed = False
    for r in results:
        name = by_id.get(r["app"]["id"], r["app"]["id"])
        if r["status"] == "succeeded":
            click.echo(f"{name}: succeeded")
        else:
            failed = True
            click.echo(f"{name}: {r['status']}{': ' + r['error_message'] if r.get('error_message') else ''}")
    if failed:
        raise HoistError("Promotion to some apps failed (above); their running releases are unchanged.")
    click.echo(f"Promotion successful in {time.monotonic() - started:.1f}s")


COMMANDS = [pipelines_list, pipelines_create, pipelines_add, pipelines_info, pipelines_remove, pipelines_destroy,
            pipelines_promote]
