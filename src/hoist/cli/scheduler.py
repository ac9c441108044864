"""scheduler, scheduler:add, scheduler:remove: Heroku Scheduler's jobs (times in UTC)."""
from __future__ import annotations

from typing import Any

import click

from hoist.cli.context import CliContext
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.output import listing


def _last(job: dict[str, Any]) -> str:
    if not job.get("last_run_at"):
        return "never"
    status = job.get("last_status") or ""
    shown = {"starting": "running"}.get(status, status)
    if status.isdigit():
        shown = f"exit {status}"
    dyno = f" ({job['last_dyno']})" if job.get("last_dyno") else ""
    return f"{job['last_run_at']} {shown}{dyno}"


@click.command("scheduler")
@app_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def scheduler_list(c: CliContext, as_json: bool) -> None:
    """List the app's scheduled jobs: when each runs next, and how its last run went."""
    app = c.app()
    jobs = c.client().get(f"/apps/{app}/scheduler/jobs")
    listing(jobs, as_json=as_json, title=f"Scheduled jobs of {app} (UTC)",
            headers=["ID", "Schedule", "Command", "Next run", "Last run"],
            row=lambda j: [j["id"], j["schedule"], j["command"], j["next_run_at"], _last(j)],
            empty=f'No jobs. Add one with `hoist scheduler:add "python task.py" --every 1h -a {app}`.')


@click.command("scheduler:add", context_settings={"ignore_unknown_options": True})
@app_option
@click.argument("command", nargs=-1)
@click.option("--every", required=True, help="10m, 1h or 1d")
@click.option("--at", "at", default=None, help="1h: the minute (:30); 1d: the time of day in UTC (02:00)")
@pass_ctx
def scheduler_add(c: CliContext, command: tuple[str, ...], every: str, at: str | None) -> None:
    """Run COMMAND (a Procfile-style command line) every 10 minutes, hour or day, as a scheduler.N dyno."""
    app = c.app()
    job = c.client().post(f"/apps/{app}/scheduler/jobs", {"command": " ".join(command), "every": every, "at": at})
    click.echo(f"Added job {job['id']}: `{job['command']}` {job['schedule']}; next run {job['next_run_at']}")


@click.command("scheduler:remove")
@app_option
@click.argument("job_id")
@pass_ctx
def scheduler_remove(c: CliContext, job_id: str) -> None:
    """Remove a scheduled job (by the ID `hoist scheduler` shows)."""
    app = c.app()
    job = c.client().delete(f"/apps/{app}/scheduler/jobs/{job_id}")
    click.echo(f"Removed job {job['id']} (`{job['command']}`)")


COMMANDS = [scheduler_list, scheduler_add, scheduler_remove]
