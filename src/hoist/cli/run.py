"""run CMD... (attached one-off dyno, exit status passed through) and run:detached."""
from __future__ import annotations

import os
import shlex
import sys

import click

from hoist.cli.attach import bridge, connect, raw_terminal, terminal_size
from hoist.cli.context import CliContext
from hoist.cli.errors import HoistError
from hoist.cli.options import app_option, pass_ctx
from hoist.cli.parsing import ArgError, parse_config_pairs

_RUN_SETTINGS = {"ignore_unknown_options": True, "allow_interspersed_args": False}


def command_line(args: tuple[str, ...]) -> str:
    """One argument is a shell command line as typed (`hoist run 'echo $DYNO'`); several are quoted words."""
    return args[0] if len(args) == 1 else shlex.join(args)


def _env(pairs: tuple[str, ...]) -> dict[str, str]:
    try:
        return parse_config_pairs(list(pairs))
    except ArgError as exc:
        raise HoistError(f"{exc} (use -e KEY=VALUE)") from None


@click.command("run", context_settings=_RUN_SETTINGS)
@app_option
@click.option("-e", "--env", "env_pairs", multiple=True, help="KEY=VALUE for this dyno only (repeatable)")
@click.option("--no-tty", is_flag=True, help="plain pipes even when stdin is a terminal")
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_ctx
def run(c: CliContext, env_pairs: tuple[str, ...], no_tty: bool, args: tuple[str, ...]) -> None:
    """Run a command in a one-off dyno (run.N) with this terminal attached; its exit status is hoist's."""
    app = c.app()
    client = c.client()
    use_tty = sys.stdin.isatty() and not no_tty
    env = _env(env_pairs)
    size = terminal_size()
    if use_tty:
        env.setdefault("TERM", os.environ.get("TERM") or "xterm")
        if size:
            env["LINES"], env["COLUMNS"] = str(size[0]), str(size[1])
    resp = client.request("POST", f"/apps/{app}/dynos", json={
        "command": command_line(args), "attach": True, "env": env, "type": "run",
        "force_no_tty": not use_tty, "hoist_exit_status": True,
    })
    dyno = resp.json()
    if resp.headers.get("hoist-run-warning"):
        click.echo(f" !    {resp.headers['hoist-run-warning']}", err=True)
    ca_pem = client.request("GET", "/hoist/ca.pem").text
    sock = connect(dyno["attach_url"], ca_pem)
    stdin_fd, stdout_fd = sys.stdin.fileno(), sys.stdout.fileno()
    sys.stdout.flush()
    try:
        if use_tty:
            with raw_terminal(stdin_fd):
                code = bridge(sock, stdin_fd=stdin_fd, stdout_fd=stdout_fd, tty_mode=True)
        else:
            code = bridge(sock, stdin_fd=stdin_fd, stdout_fd=stdout_fd, tty_mode=False)
    except KeyboardInterrupt:
        # Only without a tty (with one, ^C goes to the dyno). A closed connection looks like the end of
        # stdin to the dyno, so stop it explicitly, as heroku run's ^C does.
        try:
            client.post(f"/apps/{app}/dynos/{dyno['name']}/actions/stop", {})
        except HoistError:
            pass  # it may have exited already
        sys.exit(130)
    if code is None:
        raise HoistError(f"the connection to {dyno['name']} closed before it reported an exit status; "
                         f"see `hoist logs -a {app} --dyno {dyno['name']}`.")
    sys.exit(code)


@click.command("run:detached", context_settings=_RUN_SETTINGS)
@app_option
@click.option("-e", "--env", "env_pairs", multiple=True, help="KEY=VALUE for this dyno only (repeatable)")
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_ctx
def run_detached(c: CliContext, env_pairs: tuple[str, ...], args: tuple[str, ...]) -> None:
    """Run a command in a one-off dyno in the background; its output goes to the app's logs."""
    app = c.app()
    cmd = command_line(args)
    resp = c.client().request("POST", f"/apps/{app}/dynos", json={"command": cmd, "attach": False,
                                                                   "env": _env(env_pairs), "type": "run"})
    dyno = resp.json()
    if resp.headers.get("hoist-run-warning"):
        click.echo(f" !    {resp.headers['hoist-run-warning']}", err=True)
    click.echo(f"Running {cmd} on {app}... up, {dyno['name']}")
    click.echo(f"Run `hoist logs -a {app} --dyno {dyno['name']}` to view the output.")


COMMANDS = [run, run_detached]
