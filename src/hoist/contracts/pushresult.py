"""What the push hands the pre-receive hook last: the deploy's outcome, one line.

Imports nothing: the hook starts on every push, and each import is time the pusher waits."""
from __future__ import annotations

RESULT_PREFIX = "\x00hoist-result:"  # starts the push's last line; no build output can contain NUL


def result_line(ok: bool) -> str:
    """The push's last line, read by the hook: the deploy's outcome."""
    return f"{RESULT_PREFIX}{'ok' if ok else 'fail'}\n"


def read_result_line(text: str) -> bool | None:
    """The outcome carried by a line of the push's output; None for an ordinary output line."""
    if not text.startswith(RESULT_PREFIX):
        return None
    return text[len(RESULT_PREFIX):] == "ok"
