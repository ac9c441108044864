from __future__ import annotations

from hoist.router.pages import ERRORS, NOT_FOUND, render_body, render_response


def test_pages_say_what_to_do() -> None:
    assert b"hoist apps" in render_body(NOT_FOUND)
    body = render_body(ERRORS["H14"])
    assert b"H14" in body and b"ps:scale" in body
    resp = render_response(ERRORS["H10"], True)
    assert resp.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") and b"Connection: close" in resp
    head_only = render_response(ERRORS["H10"], False, True)
    assert head_only.endswith(b"\r\n\r\n") and b"Content-Length: " in head_only
