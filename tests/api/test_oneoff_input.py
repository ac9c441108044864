"""The one-off dyno request body (POST /apps/{app}/dynos), as the heroku and hoist CLIs send it."""
from __future__ import annotations

import pytest

from hoist.api.errors import ApiError
from hoist.api.oneoff_input import parse_run_request


def test_heroku_cli_body_gets_a_pty() -> None:
    # What `heroku run bash` sends (TERM undefined is dropped by JSON; COLUMNS arrive as numbers).
    req = parse_run_request({"attach": True, "command": "bash", "env": {"COLUMNS": 120, "LINES": 40, "TERM": None},
                             "force_no_tty": None, "size": None, "type": None})
    assert (req.command, req.attach, req.tty, req.rows, req.cols) == ("bash", True, True, 40, 120)
    assert req.env == {"COLUMNS": "120", "LINES": "40"} and not req.exit_status


def test_no_tty_detached_and_exit_status() -> None:
    req = parse_run_request({"command": "cat", "attach": True, "force_no_tty": True, "hoist_exit_status": True})
    assert not req.tty and req.exit_status
    req = parse_run_request({"command": "echo hi", "time_to_live": 30})
    assert not req.attach and not req.tty and req.time_to_live == 30.0


@pytest.mark.parametrize("body, words", [
    ([], "JSON object"), ({}, "command"), ({"command": "  "}, "command"), ({"command": "x", "attach": "yes"}, "attach"),
    ({"command": "x", "env": {"A-B": "1"}}, "env"), ({"command": "x", "env": {"A": ["1"]}}, "env A"),
    ({"command": "x", "time_to_live": -1}, "time_to_live"), ({"command": "x", "type": "web"}, "type"),
    ({"command": "x", "nope": 1}, "nope"), ({"command": "a\x00b"}, "NUL"),
])
def test_bad_bodies(body: object, words: str) -> None:
    with pytest.raises(ApiError) as exc:
        parse_run_request(body)
    assert exc.value.status == 422 and exc.value.id == "invalid_params" and words in exc.value.message
