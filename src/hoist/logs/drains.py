"""Every running drain, fed from the log store's line stream.

The store calls `feed` for each line it records; `feed` hands the line to the app's drains without waiting
(each drain has its own buffer and thread, drain.py), so a slow or dead drain never slows an app, the
platform or `hoist logs`. Lines a drain itself reports (hoist[logplex]: its errors, L10) go to the app's log
but not back into drains, so a failing drain cannot feed itself or the others."""
from __future__ import annotations

import ssl
import threading
from collections.abc import Callable

from hoist.logs.drain import DrainSender, DrainStatus
from hoist.logs.drain_transport import tls_context, transport_for
from hoist.logs.drain_url import DrainUrl
from hoist.logs.line import PLATFORM, LogLine

DRAIN_DYNO = "logplex"


class DrainSetupError(Exception):
    """The drains cannot start as configured (HOIST_DRAIN_CA_FILE); the message says what to fix."""  # the dyno name of a drain's own lines (Heroku's heroku[logplex])


class Drains:
    def __init__(self, emit: Callable[[str, str, str, str], object], *, buffer_max: int = 10_000,
                 ca_file: str | None = None, max_backoff: float = 2.0) -> None:
        self._emit = emit  # the log store's emit(app, source, dyno, message)
        if ca_file:
            try:
                tls_context(ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise DrainSetupError(f"HOIST_DRAIN_CA_FILE={ca_file} is not a readable PEM file of CA "
                                      f"certificates ({exc}); fix the path or unset it") from None
        self.buffer_max = buffer_max
        self.ca_file = ca_file
        self.max_backoff = max_backoff
        self._by_app: dict[str, dict[str, DrainSender]] = {}
        self._app_of: dict[str, str] = {}  # drain id -> the app's name now (a rename changes it)
        self._lock = threading.Lock()

    def feed(self, app: str, line: LogLine) -> None:
        if line.dyno == DRAIN_DYNO:
            return
        senders = self._by_app.get(app)
        if senders:
            for sender in list(senders.values()):
                sender.offer(line)

    def start(self, app: str, drain_id: str, target: DrainUrl, token: str) -> None:
        """Start sending the app's lines (from now on) to `target`."""
        def notice(message: str) -> None:
            current = self._app_of.get(drain_id)
            if current is not None:  # a removed drain's last words go nowhere
                self._emit(current, PLATFORM, DRAIN_DYNO, f"{message} (drain {target.masked})")

        sender = DrainSender(f"{app} {target.masked}", transport_for(target, token, self.ca_file),
                             buffer_max=self.buffer_max, notice=notice, max_backoff=self.max_backoff)
        with self._lock:
            senders = dict(self._by_app.get(app, {}))
            old = senders.pop(drain_id, None)
            senders[drain_id] = sender
            self._by_app[app] = senders  # a new dict: `feed` reads without the lock
            self._app_of[drain_id] = app
        sender.start()
        if old is not None:
            old.stop()

    def stop(self, app: str, drain_id: str) -> None:
        with self._lock:
            senders = dict(self._by_app.get(app, {}))
            sender = senders.pop(drain_id, None)
            self._by_app[app] = senders
            self._app_of.pop(drain_id, None)
        if sender is not None:
            threading.Thread(target=sender.stop, daemon=True).start()  # a closing socket never holds the caller

    def stop_app(self, app: str) -> None:
        with self._lock:
            senders = self._by_app.pop(app, {})
            for drain_id in senders:
                self._app_of.pop(drain_id, None)
        for sender in senders.values():
            threading.Thread(target=sender.stop, daemon=True).start()

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            senders = self._by_app.pop(old, {})
            if senders:
                self._by_app[new] = senders
            for drain_id in senders:
                self._app_of[drain_id] = new

    def status(self, app: str, drain_id: str) -> DrainStatus | None:
        sender = self._by_app.get(app, {}).get(drain_id)
        return sender.status() if sender else None

    def close(self, flush: float = 2.0) -> None:
        """hoist stops: each drain sends what it holds for up to `flush` seconds, all at once."""
        with self._lock:
            senders = [s for group in self._by_app.values() for s in group.values()]
            self._by_app = {}
            self._app_of = {}
        threads = [threading.Thread(target=s.stop, args=(flush,), daemon=True) for s in senders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(flush + 20)
