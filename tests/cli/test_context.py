"""Which app a command acts on, from the repo's git remotes (pure part)."""
from __future__ import annotations

from hoist.cli.context import hoist_remotes

REMOTES = """origin\thttps://github.com/me/notes.git (fetch)
origin\thttps://github.com/me/notes.git (push)
heroku\thttp://localhost:5000/notes.git (fetch)
heroku\thttp://localhost:5000/notes.git (push)
staging\thttp://x:tok@localhost:5443/notes-staging.git (push)
"""


def test_only_remotes_on_the_api_host_name_apps() -> None:
    assert hoist_remotes(REMOTES, "http://localhost:5000") == {"heroku": "notes", "staging": "notes-staging"}
    assert hoist_remotes(REMOTES, "http://hoist.example.com") == {}
    assert hoist_remotes("", "http://localhost:5000") == {}
