"""The environment a dyno runs with: Heroku's defaults, the config vars,
and the per-dyno values. Pure: no I/O."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

# Heroku sizes WEB_CONCURRENCY from the dyno's memory; a standard-1X
# (512 MB) dyno gets 2 gunicorn workers. hoist gives every dyno that size.
DEFAULT_WEB_CONCURRENCY = "2"


def dyno_env(
    *, config: Mapping[str, str], app_dir: Path, env_dir: Path | None, dyno: str, port: int | None,
) -> dict[str, str]:
    """Build the full environment of one dyno (config vars win over defaults, PORT/DYNO win over both)."""
    bin_path = f"{env_dir}/bin:" if env_dir else ""
    env: dict[str, str] = {
        "LANG": "en_US.UTF-8",
        "PYTHONPATH": str(app_dir),
        "WEB_CONCURRENCY": DEFAULT_WEB_CONCURRENCY,
        "FORWARDED_ALLOW_IPS": "*",
        "GUNICORN_CMD_ARGS": "--access-logfile -",
    }
    env.update(config)
    env.update({
        "PATH": f"{bin_path}{app_dir}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(app_dir),
        "PYTHONUNBUFFERED": "true",
        "DYNO": dyno,
    })
    if env_dir:
        env["VIRTUAL_ENV"] = str(env_dir)
    if port is not None:
        env["PORT"] = str(port)
    return env
