"""Backups (pg_dump files of an add-on's database) and their daily schedules."""
from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Backup:
    id: str
    app_id: str
    addon_id: str | None  # None once the add-on is destroyed; the file stays with the app
    addon_name: str
    num: int
    path: str
    size: int
    status: str  # running | completed | failed
    source: str  # manual | scheduled | final
    message: str
    created_at: str
    finished_at: str | None

    @property
    def name(self) -> str:
        """Heroku's backup id: b001, b002, ..."""
        return f"b{self.num:03d}"


@dataclass(frozen=True)
class Schedule:
    addon_id: str
    at: str
    keep: int
    next_run: str
    created_at: str


def _backup(r: sqlite3.Row) -> Backup:
    return Backup(r["id"], r["app_id"], r["addon_id"], r["addon_name"], r["num"], r["path"], r["size"],
                  r["status"], r["source"], r["message"], r["created_at"], r["finished_at"])


def start_backup(db: Database, app_id: str, addon_id: str, addon_name: str, directory: str, source: str) -> Backup:
    """Insert a running backup with the app's next number; its file goes in `directory`."""
    bid, now = str(uuid.uuid4()), utcnow()
    with db.transaction() as c:
        num = int(c.execute("SELECT coalesce(max(num), 0) + 1 FROM backups WHERE app_id = ?",
                            (app_id,)).fetchone()[0])
        path = f"{directory}/b{num:03d}.dump"
        c.execute("INSERT INTO backups (id, app_id, addon_id, addon_name, num, path, status, source, created_at) "
                  "VALUES (?,?,?,?,?,?,?,?,?)", (bid, app_id, addon_id, addon_name, num, path, "running", source, now))
    return Backup(bid, app_id, addon_id, addon_name, num, path, 0, "running", source, "", now, None)


def finish_backup(db: Database, backup_id: str, status: str, size: int = 0, message: str = "") -> None:
    with db.transaction() as c:
        c.execute("UPDATE backups SET status = ?, size = ?, message = ?, finished_at = ? WHERE id = ?",
                  (status, size, message, utcnow(), backup_id))


def list_backups(db: Database, app_id: str, addon_id: str | None = None) -> list[Backup]:
    if addon_id is None:
        rows = db.query("SELECT * FROM backups WHERE app_id = ? ORDER BY num", (app_id,))
    else:
        rows = db.query("SELECT * FROM backups WHERE app_id = ? AND addon_id = ? ORDER BY num", (app_id, addon_id))
    return [_backup(r) for r in rows]


def get_backup(db: Database, app_id: str, ref: str) -> Backup | None:
    """By id or by Heroku's name (b001, 1)."""
    num = ref.lower().lstrip("b")
    if num.isdigit():
        row = db.query_one("SELECT * FROM backups WHERE app_id = ? AND num = ?", (app_id, int(num)))
    else:
        row = db.query_one("SELECT * FROM backups WHERE app_id = ? AND id = ?", (app_id, ref))
    return _backup(row) if row else None


def delete_backup(db: Database, backup_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM backups WHERE id = ?", (backup_id,))


def detach_backups(db: Database, addon_id: str) -> None:
    """The add-on is gone; its backups stay with the app."""
    with db.transaction() as c:
        c.execute("UPDATE backups SET addon_id = NULL WHERE addon_id = ?", (addon_id,))


def set_schedule(db: Database, addon_id: str, at: str, keep: int, next_run: str) -> Schedule:
    now = utcnow()
    with db.transaction() as c:
        c.execute("INSERT INTO backup_schedules (addon_id, at, keep, next_run, created_at) VALUES (?,?,?,?,?) "
                  "ON CONFLICT (addon_id) DO UPDATE SET at = excluded.at, keep = excluded.keep, "
                  "next_run = excluded.next_run", (addon_id, at, keep, next_run, now))
    return Schedule(addon_id, at, keep, next_run, now)


def get_schedule(db: Database, addon_id: str) -> Schedule | None:
    row = db.query_one("SELECT * FROM backup_schedules WHERE addon_id = ?", (addon_id,))
    return Schedule(row["addon_id"], row["at"], row["keep"], row["next_run"], row["created_at"]) if row else None


def list_schedules(db: Database) -> list[Schedule]:
    return [Schedule(r["addon_id"], r["at"], r["keep"], r["next_run"], r["created_at"])
            for r in db.query("SELECT * FROM backup_schedules ORDER BY next_run")]


def set_next_run(db: Database, addon_id: str, next_run: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE backup_schedules SET next_run = ? WHERE addon_id = ?", (next_run, addon_id))


def delete_schedule(db: Database, addon_id: str) -> bool:
    with db.transaction() as c:
        return c.execute("DELETE FROM backup_schedules WHERE addon_id = ?", (addon_id,)).rowcount > 0
