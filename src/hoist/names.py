"""Validators for the names that cross hoist's boundaries.

App names, process types and config keys reach file paths, process
environments and SQL; every one passes through exactly one function here.
"""
from __future__ import annotations

import re

APP_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")
PROCESS_TYPE_RE = re.compile(r"^[a-zA-Z0-9_-]{1,30}$")
CONFIG_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")
DYNO_NAME_RE = re.compile(r"^([a-zA-Z0-9_-]{1,30})\.([0-9]{1,6})$")


class InvalidName(ValueError):
    """A name that failed validation; the message says what is allowed."""


def app_name(value: str) -> str:
    """Return `value` if it is a valid app name, else raise InvalidName."""
    if not isinstance(value, str) or not APP_NAME_RE.fullmatch(value):
        raise InvalidName(
            f"{value!r} is not a valid app name: use 3 to 30 characters, lower-case "
            "letters, digits and dashes, starting with a letter and not ending with a dash "
            "(for example: notes-app)"
        )
    return value


# Names a new app may not take: they read as hoist's own hosts (APP.localhost, APP.<HOIST_DOMAIN>).
RESERVED_APP_NAMES = frozenset({"hoist", "api", "git", "www", "dashboard", "admin", "internal", "localhost",
                                "router", "platform"})


def new_app_name(value: str) -> str:
    """`app_name`, and not one of the reserved names: for a new app or a rename."""
    app_name(value)
    if value in RESERVED_APP_NAMES:
        raise InvalidName(f"{value!r} is reserved: hoist keeps it for its own hosts; choose another name "
                          f"(for example {value}-app)")
    return value


def process_type(value: str) -> str:
    """Return `value` if it is a valid Procfile process type, else raise InvalidName."""
    if not isinstance(value, str) or not PROCESS_TYPE_RE.fullmatch(value):
        raise InvalidName(
            f"{value!r} is not a valid process type: use letters, digits, '_' and '-' "
            "(up to 30 characters), for example web or worker"
        )
    return value


def config_key(value: str) -> str:
    """Return `value` if it is a valid config var name, else raise InvalidName."""
    if not isinstance(value, str) or not CONFIG_KEY_RE.fullmatch(value):
        raise InvalidName(
            f"{value!r} is not a valid config var name: use letters, digits and '_', "
            "not starting with a digit (for example DATABASE_URL)"
        )
    return value


def dyno_name(value: str) -> tuple[str, int]:
    """Split a dyno name like ``web.1`` into its type and number."""
    m = DYNO_NAME_RE.fullmatch(value) if isinstance(value, str) else None
    if not m:
        raise InvalidName(f"{value!r} is not a dyno name: use TYPE.N, for example web.1")
    return m.group(1), int(m.group(2))


HOSTNAME_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def hostname(value: str) -> str:
    """Return `value` if it is a valid custom domain (lower-case, no wildcard), else raise InvalidName."""
    ok = (isinstance(value, str) and 3 < len(value) <= 253 and "." in value
          and not value.endswith(".localhost") and value != "localhost"
          and all(HOSTNAME_LABEL_RE.match(label) for label in value.split("."))
          and not value.rsplit(".", 1)[1].isdigit())
    if not ok:
        raise InvalidName(
            f"{value!r} is not a valid domain: use a full lower-case host name such as "
            "www.example.com (letters, digits and dashes in dot-separated labels, at most 253 "
            "characters; no wildcards, IP addresses or .localhost names)"
        )
    return value
