"""Users and API tokens. Tokens are stored as SHA-256 hashes: a stolen
database does not hand out working credentials."""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import uuid
from dataclasses import dataclass

from hoist.state.db import Database, utcnow


@dataclass(frozen=True)
class User:
    id: str
    email: str
    is_admin: bool
    created_at: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh API token: 'HRKU-'-style prefix so it is recognisable in a leak scan."""
    return "hoist_" + secrets.token_urlsafe(32)


def _user(row: object) -> User:
    r = row  # sqlite3.Row
    return User(id=r["id"], email=r["email"], is_admin=bool(r["is_admin"]), created_at=r["created_at"])  # type: ignore[index]


def create_user(db: Database, email: str, *, is_admin: bool = False, password_hash: str | None = None) -> User:
    uid = str(uuid.uuid4())
    now = utcnow()
    with db.transaction() as c:
        c.execute(
            "INSERT INTO users (id, email, password_hash, is_admin, created_at) VALUES (?,?,?,?,?)",
            (uid, email, password_hash, int(is_admin), now),
        )
    return User(uid, email, is_admin, now)


def get_user(db: Database, user_id: str) -> User | None:
    row = db.query_one("SELECT * FROM users WHERE id = ?", (user_id,))
    return _user(row) if row else None


def find_user_by_email(db: Database, email: str) -> User | None:
    row = db.query_one("SELECT * FROM users WHERE email = ?", (email,))
    return _user(row) if row else None


def admin_user(db: Database) -> User | None:
    row = db.query_one("SELECT * FROM users WHERE is_admin = 1 ORDER BY created_at LIMIT 1")
    return _user(row) if row else None


def create_token(db: Database, user_id: str, description: str = "", expires_at: str | None = None) -> tuple[str, str]:
    """Create a token for the user; return (token id, the token itself — shown once)."""
    token = new_token()
    tid = str(uuid.uuid4())
    with db.transaction() as c:
        c.execute(
            "INSERT INTO tokens (id, user_id, token_hash, description, created_at, expires_at) VALUES (?,?,?,?,?,?)",
            (tid, user_id, hash_token(token), description, utcnow(), expires_at),
        )
    return tid, token


def user_for_token(db: Database, token: str) -> User | None:
    """The user a (non-expired) token belongs to, or None."""
    if not token:
        return None
    row = db.query_one(
        "SELECT u.*, t.expires_at AS t_expires FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        (hash_token(token),),
    )
    if row is None:
        return None
    if row["t_expires"] and row["t_expires"] <= utcnow():
        return None
    return _user(row)


@dataclass(frozen=True)
class Token:
    id: str
    user_id: str
    description: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None


def _token(r: object) -> Token:
    return Token(r["id"], r["user_id"], r["description"], r["created_at"], r["expires_at"],  # type: ignore[index]
                 r["last_used_at"])  # type: ignore[index]


def list_users(db: Database) -> list[User]:
    return [_user(r) for r in db.query("SELECT * FROM users ORDER BY email")]


def delete_user(db: Database, user_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM tokens WHERE user_id = ?", (user_id,))
        c.execute("DELETE FROM users WHERE id = ?", (user_id,))


def password_hash(db: Database, user_id: str) -> str | None:
    row = db.query_one("SELECT password_hash FROM users WHERE id = ?", (user_id,))
    return row["password_hash"] if row else None


def set_password_hash(db: Database, user_id: str, value: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE users SET password_hash = ? WHERE id = ?", (value, user_id))


def list_tokens(db: Database, user_id: str) -> list[Token]:
    return [_token(r) for r in db.query("SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at, id", (user_id,))]


def get_token(db: Database, user_id: str, token_id: str) -> Token | None:
    row = db.query_one("SELECT * FROM tokens WHERE user_id = ? AND id = ?", (user_id, token_id))
    return _token(row) if row else None


def revoke_token(db: Database, user_id: str, token_id: str) -> bool:
    with db.transaction() as c:
        cur = c.execute("DELETE FROM tokens WHERE user_id = ? AND id = ?", (user_id, token_id))
    return cur.rowcount > 0


def token_id_for(db: Database, token: str) -> str | None:
    row = db.query_one("SELECT id FROM tokens WHERE token_hash = ?", (hash_token(token),))
    return row["id"] if row else None


def touch_token(db: Database, token: str) -> None:
    """Record when a token was last used (to the second: one write per request is cheap in WAL mode). Only
    bookkeeping: on a full disk (or any failed write) it is skipped, and the request goes on."""
    now = utcnow()
    try:
        with db.transaction() as c:
            c.execute("UPDATE tokens SET last_used_at = ? WHERE token_hash = ? AND (last_used_at IS NULL OR "
                      "last_used_at <> ?)", (now, hash_token(token), now))
    except sqlite3.OperationalError:
        pass
