"""Deploys from a connected repository: hoist fetches the branch when a signed webhook says it moved and,
as a fallback, every poll interval, and deploys each new head exactly once, in order, through the same
pipeline as a `git push` (with the tests first when the connection waits for CI).

Order and once-only: one lock per app (asyncio's locks are first come, first served) around fetch and
deploy, and `claim_deploy` records a commit before its deploy starts, so neither a replayed delivery nor
the poll finding the same head deploys it twice. A commit already in the deployed commit's history is
older news and is skipped, unless the push was a force-push. A fetch that fails leaves the running release
alone and records the error the user sees in `hoist apps:connection`."""
from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from hoist.contracts.pushresult import read_result_line
from hoist.git import webhook
from hoist.git.remote import Credential, Mirror, RemoteError, check_branch, check_url, host_of
from hoist.platform.fetch import inside
from hoist.platform.errors import PlatformError
from hoist.platform.pipeline import Pushes
from hoist.state import apps as apps_t
from hoist.state import connections as conn_t
from hoist.state import users as users_t
from hoist.state.apps import App
from hoist.state.connections import Connection
from hoist.state.users import User

CREDENTIAL_KINDS = ("", "token", "deploy-key")


@dataclass(frozen=True)
class Answer:
    """What the webhook endpoint says back."""
    status: int
    message: str
    commit: str | None = None


def _invalid(message: str) -> PlatformError:
    return PlatformError("invalid_params", message, 422, "repo-connection")


class Connections:
    def __init__(self, pushes: Pushes, default_poll: float, say: Callable[[str], None] = print) -> None:
        self.pushes = pushes
        self.platform = pushes.platform
        self.db = pushes.platform.db
        self.default_poll = default_poll
        self.say = say
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._polled: dict[str, float] = {}

    def mirror(self, app: App, conn: Connection) -> Mirror:
        return Mirror(self.platform.paths.app(app.name) / "connected.git", conn.url, conn.branch,
                      Credential(conn.credential_kind, conn.credential))

    # ----- connect, disconnect, look -----

    def connect(self, app: App, user: User, url: str, branch: str, wait_for_ci: bool, credential_kind: str = "",
                credential: str = "", poll_interval: float | None = None) -> Connection:
        """Connect `app` to the repository (the webhook secret is on the returned row: show it once), then
        fetch it and deploy its head."""
        try:
            url, branch = check_url(url), check_branch(branch)
        except RemoteError as exc:
            raise _invalid(str(exc)) from None
        if credential_kind not in CREDENTIAL_KINDS or bool(credential_kind) != bool(credential):
            raise _invalid("credential: give {\"kind\": \"token\" | \"deploy-key\", \"value\": ...} or none")
        if credential_kind == "deploy-key" and "PRIVATE KEY" not in credential:
            raise _invalid("the deploy key is not an SSH private key (it starts with -----BEGIN ... PRIVATE KEY)")
        try:
            self._check_reach(url, user)
        except RemoteError as exc:
            raise _invalid(str(exc)) from None
        interval = self.default_poll if poll_interval is None else poll_interval
        if not 5 <= interval <= 86400:
            raise _invalid(f"poll interval {interval:g} s: give between 5 and 86400 seconds")
        shutil.rmtree(self.platform.paths.app(app.name) / "connected.git", ignore_errors=True)
        conn = conn_t.connect(self.db, app.id, url, branch, wait_for_ci, secrets.token_hex(20), credential_kind,
                              credential, user.id, interval)
        self.platform.audit(app, user, "repo.connect", f"{url} {branch}")
        self._polled[app.id] = time.monotonic()
        self._spawn(self.sync(app.id))
        return conn

    @staticmethod
    def _check_reach(url: str, user: User | None) -> None:
        """Only the admin may connect a repository on a private network (a local Gitea, this machine): for
        anyone else hoist's fetch must not become a way to reach hosts and ports inside."""
        why = None if user is not None and user.is_admin else inside(*host_of(url))
        if why:
            raise RemoteError(f"The repository's host {why}: only the admin may connect a repository on a private "
                              "network (a local git server, for example)")

    def disconnect(self, app: App, user: User) -> Connection:
        conn = self.get(app)
        conn_t.disconnect(self.db, app.id)
        shutil.rmtree(self.platform.paths.app(app.name) / "connected.git", ignore_errors=True)
        self.platform.audit(app, user, "repo.disconnect", conn.url)
        return conn

    def get(self, app: App) -> Connection:
        conn = conn_t.get(self.db, app.id)
        if conn is None:
            raise PlatformError("not_found", f"{app.name} is not connected to a repository. Connect it: "
                                f"hoist apps:connect GIT_URL --branch main -a {app.name}", 404, "repo-connection")
        return conn

    def deploys(self, app: App) -> list[tuple[str, str, str]]:
        return conn_t.deploys(self.db, app.id)

    # ----- the webhook -----

    def deliver(self, app_name: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """A webhook delivery (headers lower-case, body read within the size limit)."""
        app = apps_t.get_app(self.db, app_name)
        conn = conn_t.get(self.db, app.id) if app else None
        if app is None or conn is None:
            return Answer(404, f"No app named {app_name!r} is connected to a repository here.")
        if not webhook.verify(headers, body, conn.webhook_secret):
            return Answer(401, "The webhook's signature is missing or does not match this app's secret: nothing "
                          "deployed. Set the webhook's secret to the one `hoist apps:connect` printed (GitHub: "
                          "X-Hub-Signature-256; GitLab: the secret token).")
        try:
            event = webhook.parse(headers, body)
        except webhook.WebhookError as exc:
            return Answer(400, f"{exc}; nothing deployed.")
        if event.delivery and not conn_t.take_delivery(self.db, app.id, event.delivery):
            return Answer(200, f"Delivery {event.delivery} was received before: nothing new to deploy.")
        if event.kind == "ping":
            return Answer(200, f"pong: {app.name} deploys branch {conn.branch!r} of {conn.url}.")
        if event.kind != "push":
            return Answer(200, "Ignored: only push events to a branch deploy.")
        if event.branch != conn.branch:
            return Answer(200, f"Ignored: this push is to branch {event.branch!r}; {app.name} deploys "
                          f"{conn.branch!r}. Nothing deployed.")
        if event.after == webhook.ZERO:
            return Answer(200, f"Ignored: branch {conn.branch!r} was deleted. The running release is unchanged.")
        if any(c == event.after for c, _, _ in conn_t.deploys(self.db, app.id)):
            return Answer(200, f"Commit {event.after[:8]} was deployed before: nothing new to deploy.", event.after)
        self._spawn(self.sync(app.id, event.after, event.forced))
        return Answer(202, f"Deploying commit {event.after[:8]} of {conn.branch!r} to {app.name}.", event.after)

    # ----- fetch and deploy -----

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def sync(self, app_id: str, commit: str | None = None, forced: bool = False) -> None:
        """Fetch the branch; deploy `commit` (the webhook's) or the branch's head, if it is new."""
        async with self._locks.setdefault(app_id, asyncio.Lock()):
            app, conn = apps_t.get_app(self.db, app_id), conn_t.get(self.db, app_id)
            if app is None or conn is None:
                return
            mirror = self.mirror(app, conn)
            try:
                owner = users_t.get_user(self.db, conn.user_id) if conn.user_id else None
                await asyncio.to_thread(self._check_reach, conn.url, owner)  # names can change what they point at
                head = await mirror.fetch()
            except RemoteError as exc:
                message = f"{exc}. The running release is unchanged; hoist tries again every {conn.poll_interval:g} s."
                if message != conn.last_error:
                    self.platform.logs.emit(app.name, "app", "api", f"Connected repository: {message}")
                conn_t.checked(self.db, app_id, None, message)
                return
            conn_t.checked(self.db, app_id, head, "")
            target = commit if commit and await mirror.has_commit(commit) else head
            if target == conn.last_deployed:
                return
            if not forced and conn.last_deployed and await mirror.is_ancestor(target, conn.last_deployed):
                return  # older than what runs: a late delivery
            if not conn_t.claim_deploy(self.db, app_id, target):
                return
            await self._deploy(app, conn, mirror, target)

    async def _deploy(self, app: App, conn: Connection, mirror: Mirror, commit: str) -> None:
        user = users_t.get_user(self.db, conn.user_id) or users_t.get_user(self.db, app.owner_id)
        assert user is not None
        self.platform.logs.emit(app.name, "app", "api", f"Deploying {commit[:8]} from {conn.branch} of {conn.url}")
        ok, problem = False, ""
        try:
            async for line in self.pushes.run(app, user, commit, mirror.archive(commit),
                                              wait_for_ci=conn.wait_for_ci, source="connected"):
                text = line.rstrip("\n")
                outcome = read_result_line(text)
                if outcome is not None:
                    ok = outcome
                elif text.startswith(" !") and not problem:
                    problem = text.lstrip(" !").strip()
        except Exception as exc:  # recorded, never raised into the poll loop
            problem = f"hoist failed while deploying: {exc!r}"
        status = "succeeded" if ok else "failed"
        conn_t.finish_deploy(self.db, app.id, commit, status, "" if ok else problem)
        self.platform.logs.emit(app.name, "app", "api", f"Deploy of {commit[:8]} from the connected repository "
                                f"{status}" + (f": {problem}" if problem and not ok else ""))

    async def run(self, tick: float = 1.0) -> None:
        """The poll fallback: fetch each connected repository every its poll interval."""
        while True:
            now = time.monotonic()
            for conn in conn_t.list_all(self.db):
                lock = self._locks.get(conn.app_id)
                if now - self._polled.get(conn.app_id, 0.0) >= conn.poll_interval and not (lock and lock.locked()):
                    self._polled[conn.app_id] = now
                    self._spawn(self.sync(conn.app_id))
            await asyncio.sleep(tick)

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
