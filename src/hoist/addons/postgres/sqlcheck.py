"""A cheap, pure pre-check on dataclip SQL for a clear message; the real guard is in the database."""
from __future__ import annotations

import re

from hoist.addons.postgres.errors import PostgresError

READ_VERBS = frozenset({"select", "with", "values", "table", "explain", "show"})
_COMMENT_RE = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_WORD_RE = re.compile(r"[A-Za-z_]+")


def strip_comments(query: str) -> str:
    """Remove -- and /* */ comments (a rough pass; string literals are not parsed)."""
    return _COMMENT_RE.sub(" ", query)


def first_word(query: str) -> str:
    """The statement's first keyword, lower-cased ('' if none)."""
    match = _WORD_RE.search(strip_comments(query).lstrip(" \t\r\n(;"))
    return match.group(0).lower() if match else ""


def precheck(query: str) -> str:
    """Return `query` stripped, or raise PostgresError when it plainly is not one read-only query."""
    body = query.strip().rstrip(";").strip()
    if not body:
        raise PostgresError("the dataclip is empty; write a SELECT query")
    verb = first_word(body)
    if verb not in READ_VERBS:
        raise PostgresError(
            f"dataclips are read-only and {verb.upper() or 'this'} is not a query; "
            "write a SELECT (or WITH ... SELECT) instead"
        )
    return body
