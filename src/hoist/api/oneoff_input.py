"""The body of `POST /apps/{app}/dynos` (a one-off dyno), checked. Pure: no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hoist import names
from hoist.api.errors import ApiError, invalid

MAX_COMMAND = 16 * 1024
_KNOWN = {"command", "attach", "env", "size", "type", "time_to_live", "force_no_tty", "hoist_exit_status",
          "source_blob"}


@dataclass(frozen=True)
class RunRequest:
    command: str
    attach: bool
    env: dict[str, str]
    tty: bool
    rows: int
    cols: int
    exit_status: bool
    time_to_live: float | None
    size: str


def _dimension(env: dict[str, str], key: str, default: int) -> int:
    value = env.get(key, "")
    return int(value) if value.isdigit() and 0 < int(value) < 10000 else default


def parse_run_request(body: Any) -> RunRequest:
    """Validate the body; raise ApiError (422) saying which field is wrong and how to fix it."""
    if not isinstance(body, dict):
        raise invalid("Send a JSON object such as {\"command\": \"python\", \"attach\": true}.", "dyno")
    unknown = set(body) - _KNOWN
    if unknown:
        raise invalid(f"Unknown field(s) {', '.join(sorted(unknown))}: a one-off dyno takes command, attach, "
                      "env, size, type, time_to_live and force_no_tty.", "dyno")
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        raise invalid("command is required: the command line to run, for example \"python manage.py migrate\".",
                      "dyno")
    if len(command) > MAX_COMMAND or "\x00" in command:
        raise invalid("command is too long or contains a NUL byte.", "dyno")
    attach = body.get("attach", False)
    if attach is None:
        attach = False
    if not isinstance(attach, bool):
        raise invalid("attach must be true or false.", "dyno")
    raw_env = body.get("env") or {}
    if not isinstance(raw_env, dict):
        raise invalid("env must be an object of NAME: value pairs.", "dyno")
    env: dict[str, str] = {}
    for key, value in raw_env.items():
        try:
            names.config_key(key)
        except names.InvalidName as exc:
            raise invalid(f"env: {exc}", "dyno") from None
        if value is None:
            continue  # the heroku CLI sends TERM: undefined when it has none
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or "\x00" in str(value):
            raise invalid(f"env {key} must be a string.", "dyno")
        env[key] = str(value)
    ttl = body.get("time_to_live")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0):
        raise invalid("time_to_live must be a positive number of seconds.", "dyno")
    size = body.get("size") or "standard-1X"
    if not isinstance(size, str):
        raise invalid("size must be a string such as standard-1X.", "dyno")
    dtype = body.get("type", "run")
    if dtype not in (None, "run"):
        raise invalid("type must be run: hoist starts other process types through the formation (ps:scale).",
                      "dyno")
    # Heroku gives attached runs a pty unless the client says `force_no_tty` (heroku run --no-tty);
    # the heroku CLI relies on it (it ends piped stdin with ^D). `hoist run` sends force_no_tty
    # when its own stdin is not a terminal, and gets plain pipes and a TLS half-close for EOF.
    force_no_tty = body.get("force_no_tty")
    if force_no_tty is not None and not isinstance(force_no_tty, bool):
        raise invalid("force_no_tty must be true or false.", "dyno")
    exit_status = body.get("hoist_exit_status", False)
    if not isinstance(exit_status, bool):
        raise ApiError(422, "invalid_params", "hoist_exit_status must be true or false.", "dyno")
    return RunRequest(command=command, attach=attach, env=env, tty=attach and not force_no_tty,
                      rows=_dimension(env, "LINES", 24), cols=_dimension(env, "COLUMNS", 80),
                      exit_status=exit_status and attach, time_to_live=float(ttl) if ttl is not None else None,
                      size=size)
