"""Connected repositories: the repository and branch an app deploys from, its webhook secret and the
credential to fetch with (both secrets: never logged), what was last seen and deployed, the deliveries
already taken (replays deploy nothing) and each commit's one deploy."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class Connection:
    app_id: str
    url: str
    branch: str
    wait_for_ci: bool
    webhook_secret: str = ""  # secret
    credential_kind: str = ""  # "" | token | deploy-key
    credential: str = ""  # secret
    user_id: str = ""
    poll_interval: float = 60.0
    last_seen: str | None = None
    last_deployed: str | None = None
    last_status: str = ""
    last_error: str = ""
    checked_at: str | None = None
    created_at: str = ""

    def __repr__(self) -> str:  # keep the secrets out of logs and tracebacks
        return f"Connection(app_id={self.app_id!r}, url={self.url!r}, branch={self.branch!r})"


def _conn(r: sqlite3.Row) -> Connection:
    return Connection(r["app_id"], r["url"], r["branch"], bool(r["wait_for_ci"]), r["webhook_secret"],
                      r["credential_kind"], r["credential"], r["user_id"], r["poll_interval"], r["last_seen"],
                      r["last_deployed"], r["last_status"], r["last_error"], r["checked_at"], r["created_at"])


def connect(db: Database, app_id: str, url: str, branch: str, wait_for_ci: bool, webhook_secret: str,
            credential_kind: str, credential: str, user_id: str, poll_interval: float) -> Connection:
    """Connect (or reconnect: a new repository starts from nothing deployed from it)."""
    with db.transaction() as c:
        c.execute("DELETE FROM repo_connections WHERE app_id = ?", (app_id,))
        c.execute("DELETE FROM repo_deliveries WHERE app_id = ?", (app_id,))
        c.execute("DELETE FROM repo_deploys WHERE app_id = ?", (app_id,))
        c.execute("INSERT INTO repo_connections (app_id, url, branch, wait_for_ci, webhook_secret, credential_kind, "
                  "credential, user_id, poll_interval, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                  (app_id, url, branch, int(wait_for_ci), webhook_secret, credential_kind, credential, user_id,
                   poll_interval, utcnow()))
    got = get(db, app_id)
    assert got is not None
    return got


def disconnect(db: Database, app_id: str) -> bool:
    with db.transaction() as c:
        cur = c.execute("DELETE FROM repo_connections WHERE app_id = ?", (app_id,))
        c.execute("DELETE FROM repo_deliveries WHERE app_id = ?", (app_id,))
        c.execute("DELETE FROM repo_deploys WHERE app_id = ?", (app_id,))
        return cur.rowcount > 0


def get(db: Database, app_id: str) -> Connection | None:
    row = db.query_one("SELECT * FROM repo_connections WHERE app_id = ?", (app_id,))
    return _conn(row) if row else None


def list_all(db: Database) -> list[Connection]:
    return [_conn(r) for r in db.query("SELECT * FROM repo_connections ORDER BY created_at")]


def checked(db: Database, app_id: str, seen: str | None, error: str) -> None:
    """A fetch happened: what the branch's head is now (None: unknown), and the error if it failed."""
    with db.transaction() as c:
        c.execute("UPDATE repo_connections SET last_seen = COALESCE(?, last_seen), last_error = ?, checked_at = ? "
                  "WHERE app_id = ?", (seen, error, utcnow(), app_id))


KEEP_DELIVERIES = timedelta(days=30)  # older ids are forgotten; their commits stay deployed once (repo_deploys)


def take_delivery(db: Database, app_id: str, delivery_id: str) -> bool:
    """Record a webhook delivery; False when this delivery id was taken before (a replay)."""
    cutoff = (datetime.now(timezone.utc) - KEEP_DELIVERIES).strftime("%Y-%m-%dT%H:%M:%SZ")
    with db.transaction() as c:
        c.execute("DELETE FROM repo_deliveries WHERE app_id = ? AND received_at < ?", (app_id, cutoff))
        cur = c.execute("INSERT OR IGNORE INTO repo_deliveries (app_id, delivery_id, received_at) VALUES (?,?,?)",
                        (app_id, delivery_id, utcnow()))
        return cur.rowcount > 0


def claim_deploy(db: Database, app_id: str, commit: str) -> bool:
    """The one place a commit's deploy is decided: False when it was deployed (or tried) before."""
    with db.transaction() as c:
        cur = c.execute("INSERT OR IGNORE INTO repo_deploys (app_id, commit_sha, status, created_at) "
                        "VALUES (?,?,?,?)", (app_id, commit, "deploying", utcnow()))
        return cur.rowcount > 0


def finish_deploy(db: Database, app_id: str, commit: str, status: str, message: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE repo_deploys SET status = ?, message = ? WHERE app_id = ? AND commit_sha = ?",
                  (status, message, app_id, commit))
        c.execute("UPDATE repo_connections SET last_status = ?, last_deployed = CASE WHEN ? = 'succeeded' THEN ? "
                  "ELSE last_deployed END WHERE app_id = ?", (f"{status}: {message}" if message else status,
                                                              status, commit, app_id))


def deploys(db: Database, app_id: str) -> list[tuple[str, str, str]]:
    """(commit, status, message) of each commit deployed from the repository, oldest first."""
    return [(r["commit_sha"], r["status"], r["message"])
            for r in db.query("SELECT * FROM repo_deploys WHERE app_id = ? ORDER BY created_at, rowid", (app_id,))]


def forget_unfinished(db: Database) -> int:
    """Deploys a stopped hoist never finished did not happen: forget them, so the next fetch deploys again."""
    with db.transaction() as c:
        return c.execute("DELETE FROM repo_deploys WHERE status = 'deploying'").rowcount
