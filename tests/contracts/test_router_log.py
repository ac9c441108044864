"""The router's log line: written as Heroku writes it, parsed back by readers."""
from __future__ import annotations

from hoist.contracts.router_log import format_line, parse_message


def test_info_line_matches_heroku() -> None:
    line = format_line("notes", method="GET", path="/", host="notes.localhost", request_id="abc",
                       fwd="127.0.0.1", dyno="web.1", connect=0.0001, service=0.012,
                       status=200, nbytes=512)
    assert line == ('notes\tat=info method=GET path="/" host=notes.localhost request_id=abc '
                    'fwd="127.0.0.1" dyno=web.1 connect=0ms service=12ms status=200 bytes=512 '
                    'protocol=http\n')


def test_error_line_and_round_trip() -> None:
    line = format_line("notes", method="POST", path='/a"b', host="notes.localhost",
                       request_id="r1", fwd="1.2.3.4, 127.0.0.1", dyno="", connect=None,
                       service=None, status=503, nbytes=99, code="H14",
                       desc="No web processes running")
    app, _, msg = line.rstrip("\n").partition("\t")
    assert app == "notes"
    assert msg.startswith('at=error code=H14 desc="No web processes running" method=POST')
    assert "dyno= connect= service= status=503" in msg
    kv = parse_message(msg)
    assert kv["path"] == '/a"b' and kv["fwd"] == "1.2.3.4, 127.0.0.1" and kv["dyno"] == ""
    assert kv["code"] == "H14" and kv["bytes"] == "99"
