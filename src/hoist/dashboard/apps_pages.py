"""Creating an app (a name or a random one) and destroying one after its name is typed again:
the same platform operations as `POST /apps` and `DELETE /apps/{app}`, with the API's rule that
only the owner or the admin may destroy."""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from hoist.dashboard.core import Dashboard, Next
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session
from hoist.platform.errors import PlatformError
from hoist.state.apps import App
from hoist.state.users import User


class AppsPages:
    def __init__(self, d: Dashboard) -> None:
        self.d = d
        self.platform = d.platform

    async def create(self, request: Request, session: Session, user: User, form: dict[str, str]) -> tuple[str, str]:
        name = form.get("name", "").strip().lower()
        try:
            app = self.platform.create_app(user, name or None)
        except PlatformError as exc:
            return exc.message, f"{PREFIX}/"
        return (f"Created {app.name}. Push to it with: git push {self.platform.git_url(app.name)} main",
                f"{PREFIX}/apps/{app.name}")

    async def destroy(self, request: Request, session: Session, user: User, app: App,
                      form: dict[str, str]) -> str | Next:
        if not self.platform.can_manage(user, app):
            return f"Only the owner of {app.name} or the admin can destroy it."
        typed = form.get("confirm", "").strip()
        if typed != app.name:
            return (f"Type the app's name, {app.name}, to confirm; you typed {typed!r}. Nothing was destroyed."
                    if typed else f"Type the app's name, {app.name}, to confirm. Nothing was destroyed.")
        if self.d.on_destroy is not None:
            await self.d.on_destroy(app.name)  # first: the app's user can go only once nothing runs as it
        problems = await self.platform.destroy_app(app)
        return Next(f"Destroyed {app.name} and everything it had." + "".join(f" {p}" for p in problems),
                    f"{PREFIX}/")


def routes(d: Dashboard) -> list[Route]:
    a = AppsPages(d)
    return [
        Route(PREFIX + "/apps", d.free_action(a.create, "/"), methods=["POST"]),
        Route(PREFIX + "/apps/{app}/destroy", d.action(a.destroy, "/settings"), methods=["POST"]),
    ]
