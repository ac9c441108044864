"""Pure helpers to build, parse and redact postgres:// URLs."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from hoist.addons.postgres.errors import PostgresError

SCHEMES = ("postgres", "postgresql")


@dataclass(frozen=True)
class ConnInfo:
    """The parts of a postgres:// URL."""

    user: str
    password: str
    host: str
    port: int
    database: str
    query: str = ""


def build_url(user: str, password: str, host: str, port: int, database: str, query: str = "") -> str:
    """Return ``postgres://user:password@host:port/database`` with every part escaped."""
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    netloc_host = f"[{host}]" if ":" in host else host
    url = f"postgres://{auth}@{netloc_host}:{port}/{quote(database, safe='')}"
    return f"{url}?{query}" if query else url


def parse_url(url: str) -> ConnInfo:
    """Split a postgres:// URL into its parts; raise PostgresError if it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise PostgresError(
            f"{redact(url)!r} is not a PostgreSQL URL; use postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    try:
        port = parts.port or 5432
    except ValueError as exc:
        raise PostgresError(f"{redact(url)!r} has an invalid port; use a number from 1 to 65535") from exc
    return ConnInfo(
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=parts.hostname,
        port=port,
        database=unquote(parts.path.lstrip("/")) or unquote(parts.username or ""),
        query=parts.query,
    )


def to_url(info: ConnInfo) -> str:
    """Inverse of parse_url."""
    return build_url(info.user, info.password, info.host, info.port, info.database, info.query)


def with_database(url: str, database: str) -> str:
    """Return `url` pointing at another database on the same server, same user."""
    info = parse_url(url)
    return to_url(ConnInfo(info.user, info.password, info.host, info.port, database, info.query))


def with_login(url: str, user: str, password: str, database: str) -> str:
    """Return `url` with another user, password and database on the same server."""
    info = parse_url(url)
    return to_url(ConnInfo(user, password, info.host, info.port, database, info.query))


def without_password(url: str) -> tuple[str, str]:
    """Return (url without its password, password): the URL is safe for argv, the password goes to PGPASSWORD."""
    info = parse_url(url)
    bare = to_url(ConnInfo(info.user, "", info.host, info.port, info.database, info.query))
    return bare, info.password


def redact(url: str) -> str:
    """Return `url` with its password replaced by ``***`` (for logs and error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
