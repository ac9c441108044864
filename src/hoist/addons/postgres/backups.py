"""pg_dump/pg_restore backups that never leave partial files, and pg:pull/pg:push copies."""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from hoist.addons.postgres.admin import connect, database_exists
from hoist.addons.postgres.bins import client_command
from hoist.addons.postgres.errors import PostgresError
from hoist.addons.postgres.schedule import next_run, prune
from hoist.addons.postgres.urls import parse_url, redact

__all__ = ["capture", "restore", "is_empty", "check_target", "copy", "ensure_database", "drop_created_database", "check_versions", "next_run", "prune"]

DUMP_ARGS = ["--format=custom", "--no-password"]
RESTORE_ARGS = ["--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
                "--exit-on-error", "--no-password"]


def capture(url: str, dest: Path) -> int:
    """Dump the database at `url` to `dest` (custom format); return its size in bytes."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # hoist's: the app's user has its database, not these
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        cmd, env = client_command("pg_dump", url, *DUMP_ARGS, f"--file={tmp}")
        _run(cmd, env, what=f"backup of {redact(url)}")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest.stat().st_size


def restore(src: Path, url: str) -> None:
    """Load backup `src` into the database at `url`, replacing what it holds, in one transaction."""
    src = Path(src)
    if not src.is_file():
        raise PostgresError(f"backup {src} does not exist; list backups with `hoist pg:backups`")
    cmd, env = client_command("pg_restore", url, *RESTORE_ARGS)
    _run([*cmd, str(src)], env, what=f"restore of {src.name} into {redact(url)}")


def is_empty(url: str) -> bool:
    """True if the database holds no user tables, views or sequences."""
    with connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'").fetchone()
    return row is not None and int(row[0]) == 0


def ensure_database(url: str) -> bool:
    """Create the database `url` names if it does not exist yet (as heroku pg:pull does); True if created."""
    info = parse_url(url)
    try:
        with connect(url):
            return False
    except PostgresError as exc:
        if f'database "{info.database}" does not exist' not in str(exc):
            raise
    with connect(url, database="postgres") as conn:
        if database_exists(conn, info.database):  # another client has just created it
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(info.database)))
        except psycopg.Error as exc:
            raise PostgresError(
                f"database {info.database!r} does not exist on {info.host}:{info.port} and {info.user!r} may not "
                f"create it ({str(exc).strip()}); create it first (createdb {info.database}) or name an existing "
                "empty database"
            ) from None
    return True


def drop_created_database(url: str) -> None:
    """Undo ensure_database after a failed copy, so a failure leaves nothing behind."""
    with connect(url, database="postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(parse_url(url).database)))


def server_major(url: str) -> int:
    """The major version of the server at `url` (18 for 18.1)."""
    with connect(url) as conn:
        return int(conn.info.server_version) // 10000


def check_versions(src_major: int, dst_major: int, dst_url: str) -> None:
    """Refuse to copy into an older server: a newer server's dump does not load there."""
    if dst_major < src_major:
        dst = parse_url(dst_url)
        raise PostgresError(
            f"the target server {dst.host}:{dst.port} runs PostgreSQL {dst_major}, older than the source's "
            f"{src_major}, and a dump only loads into the same or a newer version; copy into a PostgreSQL "
            f"{src_major} (or newer) server: `hoist pg:pull DATABASE_URL mylocaldb` pulls into one hoist runs for you "
            "(hoist pg:local), and `hoist pg:pull DATABASE_URL mylocaldb.dump` writes a file for pg_restore"
        )


def check_target(src_url: str, dst_url: str) -> None:
    """Before pg:pull creates anything: refuse an older target server, or an existing target that is not empty."""
    info = parse_url(dst_url)
    try:
        with connect(dst_url) as conn:
            dst_major = int(conn.info.server_version) // 10000
        exists = True
    except PostgresError as exc:
        if f'database "{info.database}" does not exist' not in str(exc):
            raise
        with connect(dst_url, database="postgres") as conn:
            dst_major = int(conn.info.server_version) // 10000
        exists = False
    check_versions(server_major(src_url), dst_major, dst_url)
    if exists and not is_empty(dst_url):
        raise PostgresError(f"the target database {info.database!r} is not empty; pg:pull and pg:push only copy "
                            "into an empty database. Drop its tables or create a new database, then try again.")


def copy(src_url: str, dst_url: str) -> None:
    """Copy one database into another (pg:pull / pg:push); refuse a target that already has tables."""
    if not is_empty(dst_url):
        dst = parse_url(dst_url)
        raise PostgresError(
            f"database {dst.database!r} on {dst.host}:{dst.port} is not empty; reset it first "
            "(hoist pg:reset) or choose an empty database"
        )
    check_versions(server_major(src_url), server_major(dst_url), dst_url)
    dump_cmd, src_env = client_command("pg_dump", src_url, *DUMP_ARGS)
    restore_cmd, dst_env = client_command("pg_restore", dst_url, *RESTORE_ARGS)
    with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as restore_err:
        dump = subprocess.Popen(dump_cmd, stdout=subprocess.PIPE, stderr=dump_err, stdin=subprocess.DEVNULL,
                                env=src_env)
        assert dump.stdout is not None
        try:
            rest = subprocess.Popen(restore_cmd, stdin=dump.stdout, stderr=restore_err,
                                    stdout=subprocess.DEVNULL, env=dst_env)
        finally:
            dump.stdout.close()  # pg_restore owns the pipe now; pg_dump gets SIGPIPE if it exits
        rest_code, dump_code = rest.wait(), dump.wait()
        if dump_code != 0:
            raise PostgresError(f"copy failed while reading {redact(src_url)}: {_tail(dump_err)}")
        if rest_code != 0:
            raise PostgresError(f"copy failed while writing {redact(dst_url)}: {_tail(restore_err)}; "
                                "the target was left unchanged")


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    with tempfile.TemporaryFile() as err:
        result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, env=env)
        if result.returncode != 0:
            raise PostgresError(f"{what} failed: {_tail(err)}; nothing was changed")


def _tail(handle: object, limit: int = 1200) -> str:
    handle.seek(0)  # type: ignore[attr-defined]
    text = handle.read().decode(errors="replace").strip()  # type: ignore[attr-defined]
    return text[-limit:] or "no error output"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
