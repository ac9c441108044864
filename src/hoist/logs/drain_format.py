"""What a drain sends, in Heroku's formats. Pure.

Every line is an RFC 5424 message as Heroku writes it, `<PRI>1 TIMESTAMP HOST APP PROCID - MESSAGE` (APP is
`app` for the app's own lines and `heroku` for the platform's, PROCID the dyno: web.1, router, api), framed
by octet counting (RFC 6587: `LENGTH SP MESSAGE`). Over syslog:// and syslog+tls:// the frames follow each
other on one connection and HOST is the drain's token; over https:// a POST carries a batch of frames
(logplex frames, HOST is `host`) with the Logplex-* headers."""
from __future__ import annotations

from collections.abc import Sequence

from hoist.logs.line import LogLine

# Heroku's priorities: the app's lines local7.info, the router's local3.info, the platform's syslog.notice.
_PRI_APP, _PRI_ROUTER, _PRI_PLATFORM = 190, 158, 45
MAX_MESSAGE_BYTES = 10_000


def syslog_message(line: LogLine, host: str) -> bytes:
    if line.source == "app":
        pri, app = _PRI_APP, "app"
    else:
        pri, app = (_PRI_ROUTER if line.dyno == "router" else _PRI_PLATFORM), "heroku"
    text = line.message.replace("\n", " ")
    head = f"<{pri}>1 {line.timestamp} {host} {app} {line.dyno} - ".encode()
    return head + text.encode("utf-8", "replace")[:MAX_MESSAGE_BYTES]


def octet_frame(message: bytes) -> bytes:
    return str(len(message)).encode() + b" " + message


def frames(lines: Sequence[LogLine], host: str) -> bytes:
    return b"".join(octet_frame(syslog_message(line, host)) for line in lines)


def logplex_headers(count: int, frame_id: str, token: str) -> dict[str, str]:
    """The headers of one HTTPS drain POST (Heroku's: the same Frame-Id when a POST is retried)."""
    return {"Content-Type": "application/logplex-1", "Logplex-Msg-Count": str(count),
            "Logplex-Frame-Id": frame_id, "Logplex-Drain-Token": token, "User-Agent": "hoist-logplex"}


def overflow_message(dropped: int, since: str) -> str:
    """Heroku's L10 for a drain whose buffer filled up."""
    return f"Error L10 (output buffer overflow): {dropped} messages dropped since {since}."
