"""Pure naming rules: add-on name to SQL identifiers, read-only role names, attachment colours."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from hoist.addons.postgres.errors import PostgresError

IDENT_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = frozenset({"postgres", "template0", "template1", "public", "none", "current_user", "session_user"})
READONLY_SUFFIX = "_readonly"
MAX_IDENT = 63

# Heroku names extra Postgres attachments HEROKU_POSTGRESQL_<COLOR>_URL.
COLORS = (
    "AMBER", "AQUA", "BLACK", "BLUE", "BRONZE", "BROWN", "CHARCOAL", "COBALT", "COPPER", "CRIMSON",
    "CYAN", "GOLD", "GRAY", "GREEN", "IVORY", "JADE", "LIME", "MAGENTA", "MAROON", "MAUVE",
    "NAVY", "OLIVE", "ONYX", "ORANGE", "PINK", "PUCE", "PURPLE", "RED", "ROSE", "SILVER",
    "TEAL", "VIOLET", "WHITE", "YELLOW",
)


def ident_from_addon(addon_name: str) -> str:
    """Map an add-on name (``postgresql-shaped-1234``) to a safe database/role identifier."""
    ident = addon_name.replace("-", "_")
    if not isinstance(addon_name, str) or not IDENT_RE.match(ident):
        raise PostgresError(
            f"{addon_name!r} cannot name a database: use 1 to 63 lower-case letters, digits, "
            "'-' or '_', starting with a letter (for example postgresql-shaped-1234)"
        )
    if ident in RESERVED or ident.startswith("pg_"):
        raise PostgresError(f"{addon_name!r} is a reserved PostgreSQL name; choose another add-on name")
    if ident.endswith(READONLY_SUFFIX):
        raise PostgresError(
            f"{addon_name!r} ends in '{READONLY_SUFFIX}', which hoist keeps for dataclip roles; choose another name"
        )
    return ident


def check_ident(name: str) -> str:
    """Return `name` if it is a valid hoist identifier, else raise PostgresError."""
    if not isinstance(name, str) or not IDENT_RE.match(name):
        raise PostgresError(f"{name!r} is not a valid database or role name; use ^[a-z][a-z0-9_]{{0,62}}$")
    return name


def readonly_role_name(database: str) -> str:
    """Return the dataclip role for `database`: ``<db>_readonly``, shortened with a hash to fit 63 bytes."""
    check_ident(database)
    name = database + READONLY_SUFFIX
    if len(name) <= MAX_IDENT:
        return name
    digest = hashlib.sha256(database.encode()).hexdigest()[:8]
    keep = MAX_IDENT - len(READONLY_SUFFIX) - len(digest) - 1
    return f"{database[:keep]}_{digest}{READONLY_SUFFIX}"


def attachment_var(existing: Iterable[str]) -> str:
    """Return the first free ``HEROKU_POSTGRESQL_<COLOR>_URL`` not in `existing` config var names."""
    taken = set(existing)
    for color in COLORS:
        var = f"HEROKU_POSTGRESQL_{color}_URL"
        if var not in taken:
            return var
    for n in range(2, 10_000):
        var = f"HEROKU_POSTGRESQL_{COLORS[0]}_{n}_URL"
        if var not in taken:
            return var
    raise PostgresError("no free HEROKU_POSTGRESQL_<COLOR>_URL name is left; detach an unused database first")
