from __future__ import annotations

from hoist.router.logline import format_line, parse_message
from hoist.router.pages import ERRORS, NOT_FOUND, render_body, render_response


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


def test_pages_say_what_to_do() -> None:
    assert b"hoist apps" in render_body(NOT_FOUND)
    body = render_body(ERRORS["H14"])
    assert b"H14" in body and b"ps:scale" in body
    resp = render_response(ERRORS["H10"], True)
    assert resp.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") and b"Connection: close" in resp
    head_only = render_response(ERRORS["H10"], False, True)
    assert head_only.endswith(b"\r\n\r\n") and b"Content-Length: " in head_only
