"""Log sessions: a short-lived secret that lets a client without a token (the heroku CLI's
log stream, the dashboard's EventSource) read one app's log through `/log-streams/SECRET`.

Opened by the API (`POST /apps/{app}/log-sessions`) and by the dashboard's log pane, read by
the stream endpoint; in memory, so a server restart ends them."""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hoist import names

SESSION_TTL = 300.0


class InvalidLogSession(ValueError):
    """The request for a session asks for something that cannot be; the message says what to send."""


@dataclass(frozen=True)
class LogSession:
    id: str
    app: str
    app_id: str
    user_id: str
    lines: int
    tail: bool
    dyno: str | None
    source: str | None
    expires: float


class LogSessions:
    def __init__(self, max_lines: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_lines = max_lines  # the store keeps no more per app
        self.clock = clock
        self._sessions: dict[str, LogSession] = {}

    def open(self, app: str, app_id: str, user_id: str, body: Any) -> LogSession:
        """A new session for the request body {"lines", "tail", "dyno", "source"}; its id is the secret."""
        if not isinstance(body, dict):
            raise InvalidLogSession("Send a JSON object such as {\"lines\": 100, \"tail\": true}.")
        try:
            lines = int(body.get("lines", 100) or 100)
        except (TypeError, ValueError):
            raise InvalidLogSession("lines must be a number.") from None
        lines = max(0, min(lines, self.max_lines))
        dyno = body.get("dyno") or body.get("dyno_name")
        source = body.get("source")
        for label, value in (("dyno", dyno), ("source", source)):
            if value is not None and not (isinstance(value, str) and (names.PROCESS_TYPE_RE.fullmatch(value)
                                                                      or names.DYNO_NAME_RE.fullmatch(value))):
                raise InvalidLogSession(f"{label} {value!r} is not valid: use for example web.1, web, router, app.")
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        self._sessions = {k: s for k, s in self._sessions.items() if s.expires > now}
        session = LogSession(secret, app, app_id, user_id, lines, bool(body.get("tail")), dyno, source,
                             now + SESSION_TTL)
        self._sessions[secret] = session
        return session

    def get(self, secret: str) -> LogSession | None:
        """The live session of a secret; None when unknown or expired."""
        session = self._sessions.get(secret)
        if session is None or session.expires < self.clock():
            return None
        return session
