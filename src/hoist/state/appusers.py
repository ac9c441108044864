"""Each app's system user as hoist made it (its name and uid), and the highest uid hoist ever handed out.

A new user's uid is above that mark (hoist.unixusers), so an app created with the name of a destroyed one
never gets the destroyed app's uid, and nothing the old app left running can read the new app's processes."""
from __future__ import annotations

from hoist.state.db import Database


def get(db: Database, app: str) -> tuple[str, int] | None:
    """(user name, uid) of the app's user, if hoist recorded one."""
    row = db.query_one("SELECT name, uid FROM app_users WHERE app = ?", (app,))
    return (str(row["name"]), int(row["uid"])) if row else None


def highest_uid(db: Database) -> int:
    """The highest uid hoist ever gave an app's user (0 before the first)."""
    row = db.query_one("SELECT uid FROM uid_high WHERE one = 1")
    return int(row["uid"]) if row else 0


def record(db: Database, app: str, name: str, uid: int) -> None:
    """The app's user is `name` with `uid`; the high-water mark never goes down."""
    with db.transaction() as c:
        c.execute("INSERT INTO app_users (app, name, uid) VALUES (?,?,?) ON CONFLICT (app) DO UPDATE SET "
                  "name = excluded.name, uid = excluded.uid", (app, name, uid))
        c.execute("INSERT INTO uid_high (one, uid) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET "
                  "uid = MAX(uid, excluded.uid)", (uid,))


def forget(db: Database, app: str) -> None:
    """The app is gone (its uid stays counted in the high-water mark)."""
    with db.transaction() as c:
        c.execute("DELETE FROM app_users WHERE app = ?", (app,))
