from __future__ import annotations

import pytest

from hoist.builder.procfile import ProcfileError, parse_procfile, web_warning


def test_parses_types_comments_and_blank_lines() -> None:
    text = "# processes\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\n\nworker:python worker.py\nrelease: flask db upgrade\n"
    assert parse_procfile(text) == {
        "web": "gunicorn app:app --bind 0.0.0.0:$PORT",
        "worker": "python worker.py",
        "release": "flask db upgrade",
    }


def test_command_may_contain_colons() -> None:
    assert parse_procfile("web: gunicorn 'app:create_app()' -b :$PORT") == {"web": "gunicorn 'app:create_app()' -b :$PORT"}


def test_malformed_line_names_line_number() -> None:
    with pytest.raises(ProcfileError, match=r"Procfile line 2 is not `name: command`"):
        parse_procfile("web: gunicorn app:app\ngunicorn app:app\n")


def test_invalid_type_name() -> None:
    with pytest.raises(ProcfileError, match=r"Procfile line 1: 'we\.b' is not a valid process type"):
        parse_procfile("we.b: gunicorn app:app")


def test_empty_command_and_duplicate() -> None:
    with pytest.raises(ProcfileError, match="line 1: process type 'web' has no command"):
        parse_procfile("web:   \n")
    with pytest.raises(ProcfileError, match="line 3: process type 'web' is already defined on line 1"):
        parse_procfile("web: a\nworker: b\nweb: c\n")


def test_no_web_process_is_deployed_with_a_warning() -> None:
    # Heroku deploys a Procfile without `web`: workers, one-off and scheduled commands only.
    assert web_warning({"web": "x"}) is None
    assert web_warning({"worker": "x", "release": "y"}) == (
        "The Procfile declares no `web` process (found: release, worker), so the app has no web dyno and requests "
        "get H14 (no web dynos running); add a line such as `web: gunicorn app:app` if it should serve HTTP")
