"""Logging in, for every face: an email and password (the API's POST /oauth/authorizations and
the dashboard's form) or an API token (the dashboard's form), both slowed down by the throttle.

No HTTP here: the caller passes the client's address and turns LoginRefused into its own answer."""
from __future__ import annotations

import asyncio

from hoist.accounts.passwords import verify_password
from hoist.accounts.throttle import LoginThrottle
from hoist.state import users as users_t
from hoist.state.db import Database
from hoist.state.users import User


class LoginRefused(Exception):
    """A login that failed or must wait: an HTTP status, Heroku's error id, and what to do."""

    def __init__(self, status: int, id: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.id = id
        self.message = message
        self.retry_after = retry_after  # seconds, for a Retry-After header


class Logins:
    def __init__(self, db: Database, throttle: LoginThrottle) -> None:
        self.db = db
        self.throttle = throttle

    async def with_password(self, ip: str, email: str, password: str) -> User:
        """The user whose argon2 hash the password matches; failures in a row are throttled per email and address."""
        keys = (f"email:{email}", f"ip:{ip}")
        wait = self.throttle.wait_for(*keys)
        if wait > 0:
            raise LoginRefused(429, "rate_limit", f"Too many wrong passwords in a row; try again in {wait:.1f} s.",
                               retry_after=int(wait) + 1)
        user = users_t.find_user_by_email(self.db, email)
        stored = users_t.password_hash(self.db, user.id) if user else None
        if not await asyncio.to_thread(verify_password, stored, password) or user is None:
            count = self.throttle.failed(*keys)
            if count in (1, 5) or count % 100 == 0 or count & (count - 1) == 0:
                print(f"hoist: failed login for {email!r} from {ip} ({count} in a row)", flush=True)
            raise LoginRefused(401, "unauthorized", "Wrong email or password. Ask the admin to reset it "
                               "(`hoist users:remove` and `users:add`), or log in with --token.")
        self.throttle.succeeded(*keys)
        return user

    def with_token(self, ip: str, token: str) -> tuple[User, str | None]:
        """The token's user and the token's id (a session made with it ends when it is revoked)."""
        key = f"dashboard-token:{ip}"
        wait = self.throttle.wait_for(key)
        if wait > 0:
            raise LoginRefused(429, "rate_limit", f"Too many wrong tokens in a row; try again in {wait:.1f} s.")
        user = users_t.user_for_token(self.db, token)
        if user is None:
            self.throttle.failed(key)
            raise LoginRefused(401, "unauthorized", "That API token is unknown, revoked or expired. Run "
                               "`hoist auth:token` for yours, or log in with your email and password.")
        self.throttle.succeeded(key)
        users_t.touch_token(self.db, token)
        return user, users_t.token_id_for(self.db, token)
