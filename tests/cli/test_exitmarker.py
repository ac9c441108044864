"""The exit-status marker at the end of attached output, and attach URLs."""
from __future__ import annotations

import pytest

from hoist.cli.exitmarker import MarkerFilter, parse_attach_url

OUTPUT = "hello\nwörld\n\uffff heroku-command-exit-status: 3\n".encode()


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(OUTPUT)])
def test_marker_split_anywhere(size: int) -> None:
    f = MarkerFilter()
    shown = b"".join(f.feed(OUTPUT[i:i + size]) for i in range(0, len(OUTPUT), size))
    rest, code = f.finish()
    assert (shown + rest, code) == ("hello\nwörld\n".encode(), 3)


def test_no_marker_keeps_everything() -> None:
    f = MarkerFilter()
    assert f.feed(b"abc\xef") == b"abc"  # could be the start of a marker: held back
    assert f.finish() == (b"\xef", None)


def test_marker_after_partial_line_and_crlf() -> None:
    f = MarkerFilter()
    shown = f.feed("no newline\uffff heroku-command-exit-status: 130\r\n".encode())
    assert shown == b"no newline"
    assert f.finish() == (b"", 130)


def test_attach_url() -> None:
    assert parse_attach_url("rendezvous://127.0.0.1:4000/abc-DEF_1") == ("127.0.0.1", 4000, "abc-DEF_1")
    for bad in ("https://127.0.0.1:4000/x", "rendezvous://127.0.0.1/x", "rendezvous://127.0.0.1:4000/"):
        with pytest.raises(ValueError):
            parse_attach_url(bad)
