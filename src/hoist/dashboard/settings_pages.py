"""The app's settings tab: its git URL and push commands, custom domains with their certificates
(and ACM on/off), maintenance, sleep, collaborators, and destroying the app. Each form calls the
platform operation the API's endpoint calls (domains.add/remove, domains.set_acm, set_maintenance,
set_sleep, add_collaborator/remove_collaborator)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hoist.dashboard.core import Action, Dashboard
from hoist.dashboard.security import PREFIX
from hoist.dashboard.sessions import Session
from hoist.platform.control import Platform
from hoist.platform.domains import CUSTOM_KIND
from hoist.state import collaborators as collaborators_t
from hoist.state import sleep as sleep_t
from hoist.state import users as users_t
from hoist.state.apps import App
from hoist.state.users import User


def _cert(p: Platform, app: App, host: str, acm: bool) -> dict[str, str]:
    """What secures a hostname: its certificate (and issuer, expiry) and, with ACM on, the order's status."""
    found = p.certs.covering(app, host)
    status = ""
    if acm:
        status = ("cert issued" if found is not None and found[0].source == "acm"
                  else "failing" if host in p.acme.failures else "pending")
    if found is None:
        return {"cert": "none", "acm": status, "reason": p.acme.failures.get(host, "") if acm else ""}
    ep, info = found
    return {"cert": f"{ep.name} ({info.issuer}, expires {info.not_after:%Y-%m-%d})", "acm": status, "reason": ""}


def settings_view(p: Platform, app: App, user: User) -> dict[str, Any]:
    acm = p.domains.acm_enabled(app)
    domains = [{"hostname": d.hostname, "custom": d.kind == CUSTOM_KIND, "cname": p.domains.default_host(app)}
               | _cert(p, app, d.hostname, acm and d.kind == CUSTOM_KIND) for d in p.domains.list(app)]
    owner = users_t.get_user(p.db, app.owner_id)
    git_url = p.git_url(app.name)
    return {"git_url": git_url, "web_url": p.web_url(app.name), "domains": domains, "acm": acm,
            "maintenance": app.maintenance, "sleep": sleep_t.get_sleep(p.db, app.id), "asleep": p.asleep(app),
            "sleep_after": p.settings.sleep_after, "owner": owner.email if owner else "",
            "collaborators": collaborators_t.list_for_app(p.db, app.id), "can_manage": p.can_manage(user, app),
            "push": [f"git remote add hoist {git_url}", "git push hoist main"]}


def _on(form: dict[str, str]) -> bool:
    return form.get("on") == "1"


class SettingsPages:
    def __init__(self, d: Dashboard) -> None:
        self.d = d
        self.platform = d.platform

    async def page(self, request: Request, session: Session, user: User) -> Response:
        app = self.d.app_of(request, user)
        return self.d.render_app("settings.html", request, session, user, app, "Settings",
                                 s=settings_view(self.platform, app, user))

    async def domain_add(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        view = self.platform.domains.add(app, form.get("hostname", ""))
        return (f"Added {view.hostname}. Point a CNAME record for it at {self.platform.domains.default_host(app)}.")

    async def domain_remove(self, request: Request, session: Session, user: User, app: App,
                            form: dict[str, str]) -> str:
        view = self.platform.domains.remove(app, form.get("hostname", ""))
        return f"Removed {view.hostname}."

    async def acm(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        self.platform.domains.set_acm(app, _on(form))
        return ("Automated certificates on: hoist orders one for each custom domain." if _on(form)
                else "Automated certificates off.")

    async def maintenance(self, request: Request, session: Session, user: User, app: App,
                          form: dict[str, str]) -> str:
        self.platform.set_maintenance(app, _on(form), user)
        return f"Maintenance mode {'on: visitors get the maintenance page' if _on(form) else 'off'}."

    async def sleep(self, request: Request, session: Session, user: User, app: App, form: dict[str, str]) -> str:
        self.platform.set_sleep(app, _on(form), user)
        return (f"Sleep on: web dynos stop after {self.platform.settings.sleep_after} idle minutes." if _on(form)
                else "Sleep off: web dynos keep running.")

    async def collab_add(self, request: Request, session: Session, user: User, app: App,
                         form: dict[str, str]) -> str:
        email = form.get("email", "").strip()
        if not email:
            return "Enter the email of a user on this hoist."
        c = self.platform.add_collaborator(app, user, email)
        return f"Added {c.email} as a collaborator."

    async def collab_remove(self, request: Request, session: Session, user: User, app: App,
                            form: dict[str, str]) -> str:
        c = self.platform.remove_collaborator(app, user, form.get("email", ""))
        return f"Removed {c.email}."


def routes(d: Dashboard) -> list[Route]:
    s = SettingsPages(d)
    app = PREFIX + "/apps/{app}"
    actions: list[tuple[str, Action]] = [
        ("/domains", s.domain_add), ("/domains/remove", s.domain_remove), ("/acm", s.acm),
        ("/maintenance", s.maintenance), ("/sleep", s.sleep),
        ("/collaborators", s.collab_add), ("/collaborators/remove", s.collab_remove)]
    return ([Route(app + "/settings", d.page(s.page), methods=["GET"])]
            + [Route(app + path, d.action(handler, "/settings"), methods=["POST"]) for path, handler in actions])
