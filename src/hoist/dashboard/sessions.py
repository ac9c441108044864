"""Dashboard sessions: a random id in an HttpOnly cookie, stored hashed in memory,
with a CSRF token and an idle and an absolute expiry (pure; the clock is passed in)."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable

IDLE_TTL = 2 * 3600.0  # seconds without a request before the session ends
MAX_TTL = 12 * 3600.0  # a session ends this long after login whatever happens
MAX_SESSIONS = 10_000  # bound memory: the oldest sessions go first


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class Session:
    user_id: str
    csrf: str
    created: float
    seen: float
    token_id: str | None = None  # logged in with an API token: the session ends when it is revoked
    flash: list[str] = field(default_factory=list)

    def check_csrf(self, value: str | None) -> bool:
        return bool(value) and secrets.compare_digest(self.csrf, value or "")


class SessionStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic, idle: float = IDLE_TTL,
                 max_age: float = MAX_TTL) -> None:
        self._clock = clock
        self._idle = idle
        self._max_age = max_age
        self._sessions: dict[str, Session] = {}

    def create(self, user_id: str, token_id: str | None = None) -> tuple[str, Session]:
        """A new session; returns (the id for the cookie — shown only here, the session)."""
        now = self._clock()
        self._prune(now)
        session_id = secrets.token_urlsafe(32)
        session = Session(user_id, secrets.token_urlsafe(32), now, now, token_id)
        self._sessions[_digest(session_id)] = session
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        """The live session for a cookie value, touched; None when unknown or expired."""
        if not session_id:
            return None
        key = _digest(session_id)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock()
        if self._expired(session, now):
            del self._sessions[key]
            return None
        session.seen = now
        return session

    def delete(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(_digest(session_id), None)

    def end_user(self, user_id: str) -> int:
        """End every session of a user (its account or token is gone); returns how many."""
        keys = [k for k, s in self._sessions.items() if s.user_id == user_id]
        for k in keys:
            del self._sessions[k]
        return len(keys)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, s: Session, now: float) -> bool:
        return now - s.seen > self._idle or now - s.created > self._max_age

    def _prune(self, now: float) -> None:
        for k in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[k]
        while len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions, key=lambda k: self._sessions[k].created)
            del self._sessions[oldest]
