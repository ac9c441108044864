"""One drain: a bounded buffer of an app's lines and a thread that sends them, in order.

`offer` never blocks and never fails: the log store calls it for every line, from the event loop and from
threads. When the buffer is full the newest lines are dropped and counted; once there is room again an L10
line ("Error L10 (output buffer overflow): N messages dropped since T.") takes the gap's place in the stream
and in the app's log. A batch that cannot be delivered is kept and sent again, with the same frame id,
after a growing pause (0.5 s doubling up to `max_backoff`, 2 s by default): nothing is lost while the buffer holds."""
from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hoist.logs.drain_format import overflow_message
from hoist.logs.drain_transport import DeliveryError, Transport
from hoist.logs.line import PLATFORM, LogLine, now_iso

BATCH = 500
FIRST_BACKOFF = 0.5


@dataclass(frozen=True)
class DrainStatus:
    state: str  # starting | delivering | failing | stopped
    error: str | None  # the last delivery error (no URL in it)
    delivered: int
    dropped: int
    buffered: int


class DrainSender:
    def __init__(self, name: str, transport: Transport, *, buffer_max: int,
                 notice: Callable[[str], None], max_backoff: float = 2.0) -> None:
        self.name = name  # for the thread: the app and the masked URL, never the URL
        self.transport = transport
        self.buffer_max = max(1, buffer_max)
        self.notice = notice  # a line for the app's log (hoist[logplex]); called from this drain's thread
        self.max_backoff = max_backoff
        self._buf: deque[LogLine] = deque()
        self._cond = threading.Condition()
        self._dropped = 0
        self._dropped_since = ""
        self._dropped_total = 0
        self._delivered = 0
        self._state = "starting"
        self._error: str | None = None
        self._stopping = False
        self._flush_until = 0.0
        self._notices: list[str] = []
        self._thread = threading.Thread(target=self._run, name=f"drain {name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def offer(self, line: LogLine) -> None:
        with self._cond:
            if self._stopping:
                return
            if len(self._buf) >= self.buffer_max:
                if self._dropped == 0:
                    self._dropped_since = line.timestamp
                self._dropped += 1
                self._dropped_total += 1
                return
            self._buf.append(line)
            self._cond.notify()

    def status(self) -> DrainStatus:
        with self._cond:
            return DrainStatus(self._state, self._error, self._delivered, self._dropped_total, len(self._buf))

    def stop(self, flush: float = 0.0) -> None:
        """Stop taking lines; send what is buffered for up to `flush` seconds (if the receiver takes it)."""
        with self._cond:
            self._stopping = True
            self._flush_until = time.monotonic() + flush
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(flush + 0.5)
        self.transport.close()  # a send still blocked on a slow receiver ends here
        if self._thread.is_alive():
            self._thread.join(5)

    # ----- the drain's thread -----

    def _take(self) -> list[LogLine] | None:
        """The next batch (waiting for lines); None when stopping with nothing more to send."""
        with self._cond:
            while not self._buf and not self._stopping:
                self._cond.wait()
            if self._stopping and (not self._buf or self._state == "failing" or time.monotonic() > self._flush_until):
                return None
            batch = [self._buf.popleft() for _ in range(min(BATCH, len(self._buf)))]
            if self._dropped and len(self._buf) < self.buffer_max:
                # There is room again: the gap gets its L10 line, after every line older than the dropped ones.
                message = overflow_message(self._dropped, self._dropped_since)
                self._buf.append(LogLine(now_iso(), PLATFORM, "logplex", message))
                self._notices.append(message)
                self._dropped = 0
            return batch

    def _pause(self, seconds: float) -> bool:
        """Wait before a retry; True when the drain is stopping meanwhile."""
        with self._cond:
            if not self._stopping:
                self._cond.wait(seconds)
            return self._stopping

    def _say(self) -> None:
        with self._cond:
            notices, self._notices = self._notices, []
        for message in notices:
            self.notice(message)

    def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while True:
            batch = self._take()
            self._say()
            if batch is None:
                break
            frame_id = str(uuid.uuid4())
            while True:
                try:
                    self.transport.send(batch, frame_id)
                except DeliveryError as exc:
                    self._failed(exc)
                    if self._pause(backoff):
                        with self._cond:
                            self._buf.extendleft(reversed(batch))  # the flush on stop may still send it
                        break
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                except Exception as exc:  # a bug must not end the drain silently
                    self._failed(DeliveryError(f"hoist could not send: {type(exc).__name__}: {exc}"))
                    if self._pause(backoff):
                        break
                    continue
                backoff = FIRST_BACKOFF
                self._delivered_ok(len(batch))
                break
        with self._cond:
            self._state = "stopped"

    def _failed(self, exc: DeliveryError) -> None:
        message = str(exc)
        with self._cond:
            changed = self._state != "failing" or self._error != message
            self._state, self._error = "failing", message
        if changed:  # once per kind of trouble, not once per retry
            code = "Error L14 (certificate validation error)" if exc.certificate else "Drain delivery error"
            self.notice(f"{code}: {message}; hoist keeps the lines and retries")

    def _delivered_ok(self, count: int) -> None:
        with self._cond:
            recovered = self._state == "failing"
            self._state, self._delivered = "delivering", self._delivered + count
            if recovered:
                self._error = None
        if recovered:
            self.notice("Drain delivering again")
