"""hoist's users, managed by the admin: add (with a password, or a generated one shown once),
remove (not the admin, not while they own apps), and reset a password (a generated one, shown
once; the user's dashboard sessions end). The API's /users and the dashboard's admin page both
act through this class."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from hoist.accounts.passwords import generate_password, hash_password
from hoist.platform.errors import PlatformError
from hoist.state import apps as apps_t
from hoist.state import users as users_t
from hoist.state.db import Database
from hoist.state.users import User


def _invalid(message: str) -> PlatformError:
    return PlatformError("invalid_params", message, 422, "user")


def valid_email(value: object) -> str:
    if not isinstance(value, str) or len(value) > 254 or value.count("@") != 1 or any(
            c.isspace() or ord(c) < 32 for c in value) or value.startswith("@") or value.endswith("@"):
        raise _invalid("email must be an address like ada@example.com.")
    return value.strip().lower()


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise PlatformError("forbidden", "Only the admin can manage users; ask them to run `hoist users:add`.", 403)


def valid_password(value: object) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 1024:
        raise _invalid("password must be 8 to 1024 characters (or omit it to get a generated one).")
    return value


class Users:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Told a user's id when their password changes or they are removed: the faces end their sessions
        # (the dashboard's live in its memory), whichever face made the change.
        self.signed_out: list[Callable[[str], object]] = []

    def _sign_out(self, user_id: str) -> None:
        for listener in self.signed_out:
            listener(user_id)

    def list(self, actor: User) -> list[User]:
        require_admin(actor)
        return users_t.list_users(self.db)

    async def add(self, actor: User, email: object, password: object = None) -> tuple[User, str | None]:
        """The new user, and its password when hoist generated it (shown once; stored only hashed)."""
        require_admin(actor)
        email = valid_email(email)
        chosen = None if password is None else valid_password(password)
        if users_t.find_user_by_email(self.db, email) is not None:
            raise _invalid(f"A user {email} exists already.")
        secret = chosen or generate_password()
        digest = await asyncio.to_thread(hash_password, secret)
        return users_t.create_user(self.db, email, password_hash=digest), None if chosen else secret

    def find(self, ref: str) -> User:
        target = users_t.find_user_by_email(self.db, ref.lower()) or users_t.get_user(self.db, ref)
        if target is None:
            raise PlatformError("not_found", f"There is no user {ref!r}; see `hoist users`.", 404, "user")
        return target

    def remove(self, actor: User, ref: str) -> User:
        require_admin(actor)
        target = self.find(ref)
        if target.is_admin:
            raise _invalid("The admin user cannot be removed.")
        owned = [a.name for a in apps_t.list_apps(self.db, target.id)]
        if owned:
            raise _invalid(f"{target.email} owns {', '.join(owned)}; destroy those apps first.")
        users_t.delete_user(self.db, target.id)
        self._sign_out(target.id)
        return target

    async def reset_password(self, actor: User, ref: str) -> tuple[User, str]:
        """A new generated password for the user (the old one stops working); returned once."""
        require_admin(actor)
        target = self.find(ref)
        secret = generate_password()
        users_t.set_password_hash(self.db, target.id, await asyncio.to_thread(hash_password, secret))
        self._sign_out(target.id)
        return target, secret
