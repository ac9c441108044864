"""The admin's users page: add a user (a chosen password or a generated one, shown once), remove
one, reset a password (a generated one, shown once; their dashboard sessions end). The same
platform operations as the API's /users (platform/users.py), refused to anyone but the admin."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hoist.dashboard.core import Dashboard, take_flash
from hoist.dashboard import render
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session
from hoist.state import apps as apps_t
from hoist.state.users import User

BACK = "/admin/users"


class AdminPages:
    def __init__(self, d: Dashboard) -> None:
        self.d = d
        self.users = d.platform.users

    async def page(self, request: Request, session: Session, user: User) -> Response:
        db = self.d.platform.db
        rows = [{"email": u.email, "admin": u.is_admin, "created_at": u.created_at,
                 "apps": ", ".join(a.name for a in apps_t.list_apps(db, u.id))} for u in self.users.list(user)]
        return render.html("users.html", title="Users", user=user, csrf=session.csrf, flash=take_flash(session),
                           users=rows)

    async def add(self, request: Request, session: Session, user: User, form: dict[str, str]) -> tuple[str, str]:
        new, generated = await self.users.add(user, form.get("email", ""), form.get("password") or None)
        shown = f" Their password (shown only now): {generated}" if generated else ""
        return f"Added {new.email}.{shown}", PREFIX + BACK

    async def remove(self, request: Request, session: Session, user: User, form: dict[str, str]) -> tuple[str, str]:
        gone = self.users.remove(user, form.get("email", ""))
        self.d.gate.store.end_user(gone.id)
        return f"Removed {gone.email}.", PREFIX + BACK

    async def reset(self, request: Request, session: Session, user: User, form: dict[str, str]) -> tuple[str, str]:
        target, secret = await self.users.reset_password(user, form.get("email", ""))  # their sessions end
        return f"New password for {target.email} (shown only now): {secret}", PREFIX + BACK


def routes(d: Dashboard) -> list[Route]:
    a = AdminPages(d)
    return [Route(PREFIX + BACK, d.page(a.page), methods=["GET"]),
            Route(PREFIX + BACK, d.free_action(a.add, BACK), methods=["POST"]),
            Route(PREFIX + BACK + "/remove", d.free_action(a.remove, BACK), methods=["POST"]),
            Route(PREFIX + BACK + "/reset", d.free_action(a.reset, BACK), methods=["POST"])]
