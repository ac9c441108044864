"""Who may see and change an app: the owner, its collaborators and the admin; and the
activity log that records who did what."""
from __future__ import annotations

from hoist.platform.errors import PlatformError
from hoist.state import activity as activity_t
from hoist.state import apps as apps_t
from hoist.state import collaborators as collaborators_t
from hoist.state import users as users_t
from hoist.state.apps import App
from hoist.state.db import Database
from hoist.state.users import User


def audit(db: Database, app: App, user: User | str, action: str, detail: str = "") -> None:
    """Record who did what to the app (never secrets: config keys, not values)."""
    email = user if isinstance(user, str) else user.email
    activity_t.record(db, app.id, email, action, detail)


class Access:
    def __init__(self, db: Database) -> None:
        self.db = db

    def find_app(self, user: User, name_or_id: str) -> App:
        """The app, if it exists and the user may see it; the same 404 otherwise, so names cannot be probed."""
        app = apps_t.get_app(self.db, name_or_id)
        if app is None or not self.can_access(user, app):
            raise PlatformError("not_found", f"Couldn't find that app: {name_or_id!r}. "
                                "Run `hoist apps` to list your apps.", 404, "app")
        return app

    def can_access(self, user: User, app: App) -> bool:
        """The admin, the owner and the app's collaborators; asked again on every request and log line."""
        if user.is_admin or app.owner_id == user.id:
            return True
        return collaborators_t.is_collaborator(self.db, app.id, user.id)

    def can_manage(self, user: User, app: App) -> bool:
        """Destroying the app and changing who has access: the owner and the admin only."""
        return user.is_admin or app.owner_id == user.id

    def visible_apps(self, user: User) -> list[App]:
        if user.is_admin:
            return apps_t.list_apps(self.db)
        shared = collaborators_t.app_ids_for(self.db, user.id)
        return [a for a in apps_t.list_apps(self.db) if a.owner_id == user.id or a.id in shared]

    def add_collaborator(self, app: App, actor: User, email: str) -> collaborators_t.Collaborator:
        if not self.can_manage(actor, app):
            raise PlatformError("forbidden", "Only the app's owner or the admin can change who has access.", 403,
                                "collaborator")
        target = users_t.find_user_by_email(self.db, email.strip().lower()) if isinstance(email, str) else None
        if target is None:
            raise PlatformError("not_found", f"There is no user {email!r} on this hoist; the admin adds users "
                                "with `hoist users:add EMAIL`.", 404, "user")
        if target.id == app.owner_id:
            raise PlatformError("invalid_params", f"{target.email} owns {app.name} already.", 422, "collaborator")
        collab = collaborators_t.add(self.db, app.id, target.id)
        if collab is None:
            raise PlatformError("invalid_params", f"{target.email} is already a collaborator on {app.name}.", 422,
                                "collaborator")
        audit(self.db, app, actor, "access:add", target.email)
        return collab

    def remove_collaborator(self, app: App, actor: User, email: str) -> collaborators_t.Collaborator:
        if not self.can_manage(actor, app):
            raise PlatformError("forbidden", "Only the app's owner or the admin can change who has access.", 403,
                                "collaborator")
        target = users_t.find_user_by_email(self.db, email.strip().lower())
        collab = collaborators_t.get(self.db, app.id, target.id) if target else None
        if target is None or collab is None:
            raise PlatformError("not_found", f"{email!r} is not a collaborator on {app.name}; "
                                "see `hoist access`.", 404, "collaborator")
        collaborators_t.remove(self.db, app.id, target.id)
        audit(self.db, app, actor, "access:remove", target.email)
        return collab

    def transfer(self, app: App, actor: User, email: str, keep_previous: bool = True) -> tuple[App, User, User]:
        """Make the user with `email` the app's owner (the owner or the admin may); the previous owner
        stays on as a collaborator unless `keep_previous` is False. Returns (app, previous, new owner)."""
        if not self.can_manage(actor, app):
            raise PlatformError("forbidden", f"Only the owner of {app.name} or the admin can transfer it.", 403, "app")
        target = users_t.find_user_by_email(self.db, email.strip().lower()) if isinstance(email, str) else None
        if target is None:
            raise PlatformError("not_found", f"There is no user {email!r} on this hoist to transfer {app.name} to; "
                                "the admin adds users with `hoist users:add EMAIL`.", 404, "user")
        previous = users_t.get_user(self.db, app.owner_id)
        if target.id == app.owner_id or previous is None:
            raise PlatformError("invalid_params", f"{target.email} owns {app.name} already.", 422, "app")
        apps_t.set_owner(self.db, app.id, target.id, previous.id, keep_previous)
        stays = "stays on as a collaborator" if keep_previous else "no longer has access"
        audit(self.db, app, actor, "transfer", f"from {previous.email} to {target.email} ({previous.email} {stays})")
        moved = apps_t.get_app(self.db, app.id)
        assert moved is not None
        return moved, previous, target
