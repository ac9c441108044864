"""What to do when a dyno fails to boot, read from its last lines of output (pure over the lines, the
app's config keys and the versions installed in its slug).

Old apps fail at boot in a few known ways: a variable an add-on sets is missing (the tutorials push
before `addons:create`), SQLAlchemy 1.4+ refuses the `postgres://` scheme Heroku's DATABASE_URL has,
SQLAlchemy 2.1 connects `postgresql://` with psycopg 3, setuptools 81+ has no pkg_resources, and
Python 3.10 removed the ABC aliases in `collections` that packages of 2017 imported."""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

# The add-on that sets a variable apps read, as `addons:create` takes it.
ADDON_VARS: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("Postgres", "heroku-postgresql"),
    "REDIS_URL": ("Redis", "heroku-redis"),
    "REDISTOGO_URL": ("Redis To Go", "redistogo"),
    "REDISCLOUD_URL": ("Redis Cloud", "rediscloud"),
    "RABBITMQ_BIGWIG_URL": ("RabbitMQ Bigwig", "rabbitmq-bigwig"),
    "RABBITMQ_BIGWIG_RX_URL": ("RabbitMQ Bigwig", "rabbitmq-bigwig"),
    "RABBITMQ_BIGWIG_TX_URL": ("RabbitMQ Bigwig", "rabbitmq-bigwig"),
    "CLOUDAMQP_URL": ("CloudAMQP", "cloudamqp"),
}

# The first release of each package that no longer imports an ABC from `collections` at import time
# (found by scanning every release's sources on PyPI), by the module name a traceback shows.
COLLECTIONS_FIXED: dict[str, tuple[str, str]] = {
    "jinja2": ("Jinja2", "2.10.2"), "markupsafe": ("MarkupSafe", "1.1.0"), "sqlalchemy": ("SQLAlchemy", "1.2.13"),
    "requests": ("requests", "2.19.0"), "urllib3": ("urllib3", "1.23"), "yaml": ("PyYAML", "5.1"),
    "html5lib": ("html5lib", "1.1"), "marshmallow": ("marshmallow", "2.16.2"), "kombu": ("kombu", "4.3.0"),
    "celery": ("celery", "4.4.0"), "rq": ("rq", "1.0"), "django": ("Django", "2.1"), "bson": ("pymongo", "3.6.1"),
    "pymongo": ("pymongo", "3.6.1"), "eventlet": ("eventlet", "0.24.0"),
}

_KEY_ERROR = re.compile(r"KeyError: '([A-Z][A-Z0-9_]*)'")
_NO_URI = ("SQLALCHEMY_DATABASE_URI", "Could not parse SQLAlchemy URL", "Could not parse rfc1738 URL")
_COLLECTIONS = re.compile(r"cannot import name '(\w+)' from 'collections'|module 'collections' has no attribute '(\w+)'")
_FRAME = re.compile(r'File "[^"]*/site-packages/([A-Za-z0-9_]+)[/."]')


def addon_for(var: str) -> str:
    """What to run to get `var`: the add-on that sets it, else config:set."""
    if var in ADDON_VARS:
        label, service = ADDON_VARS[var]
        return f"add {label}: hoist addons:create {service}"
    return f"set it: hoist config:set {var}=VALUE"


def hints(lines: Sequence[str], config: Collection[str], versions: Mapping[str, str] | None = None) -> list[str]:
    """Hints for a dyno whose last lines are `lines`, in an app whose config has the keys `config`;
    `versions`: {module name: installed version} of the slug (to name what is installed)."""
    text = "\n".join(lines)
    out: list[str] = []
    missing = [m for m in dict.fromkeys(_KEY_ERROR.findall(text)) if m not in config]
    for var in missing:
        out.append(f"the app reads {var}, which is not set: {addon_for(var)}. The app restarts with it; no "
                   "push needed")
    if not missing and "DATABASE_URL" not in config and any(s in text for s in _NO_URI):
        out.append(f"the app has no database URL because DATABASE_URL is not set: {addon_for('DATABASE_URL')}. "
                   "The app restarts with it; no push needed")
    if "NoSuchModuleError" in text and "sqlalchemy.dialects:postgres" in text:
        out.append("SQLAlchemy 1.4 and newer refuse the postgres:// scheme that DATABASE_URL has (on Heroku too): "
                   "in the app, use os.environ['DATABASE_URL'].replace('postgres://', 'postgresql://', 1), or pin "
                   "SQLAlchemy<1.4 in requirements.txt")
    if re.search(r"No module named '?psycopg'?$", text, re.M) and "sqlalchemy" in text.lower():
        out.append("SQLAlchemy 2.1 connects postgresql:// URLs with psycopg (version 3), which is not installed: add "
                   "psycopg[binary] to requirements.txt, or write the scheme as postgresql+psycopg2:// to keep "
                   "psycopg2, or pin SQLAlchemy<2.1")
    elif re.search(r"No module named '?psycopg2'?$", text, re.M):
        out.append("psycopg2 is not installed: add psycopg2-binary to requirements.txt")
    if "No module named 'pkg_resources'" in text:
        who = _package(text, "No module named 'pkg_resources'")
        by = f"{who} imports" if who else "the app imports"
        out.append(f"{by} pkg_resources, which setuptools 81 and newer no longer include: add setuptools<81 to "
                   "requirements.txt" + (" (or upgrade to gunicorn 21 or newer)" if who == "gunicorn" else ""))
    m = _COLLECTIONS.search(text)
    if m:
        out.append(_collections_hint(m.group(1) or m.group(2), _package(text, m.group(0)), versions or {}))
    return out


def _package(text: str, error: str) -> str | None:
    """The installed package of the innermost traceback frame before `error`."""
    frames = _FRAME.findall(text[: text.find(error)])
    return frames[-1].lower() if frames else None


def _collections_hint(name: str, module: str | None, versions: Mapping[str, str]) -> str:
    removed = f"imports {name} from `collections`, which Python 3.10 removed (it is in collections.abc)"
    if module is None:
        return f"the app {removed}: import it from collections.abc, or use Python 3.9 or older"
    dist, fixed = COLLECTIONS_FIXED.get(module, (module, ""))
    have = versions.get(module)
    which = f"{dist} {have}" if have else dist
    if fixed:
        return f"{which} {removed}; {dist} {fixed} is the first release that works: pin {dist}>={fixed}"
    return f"{which} {removed}: pin a release of {dist} made for Python 3.10 or newer"


def module_versions(env_dir: Path | None) -> dict[str, str]:
    """{top-level module: version} of what is installed in a slug's virtualenv, from its .dist-info."""
    found: dict[str, str] = {}
    if env_dir is None:
        return found
    for info in env_dir.glob("lib/python*/site-packages/*.dist-info"):
        dist, _, version = info.name[: -len(".dist-info")].partition("-")
        try:
            tops = (info / "top_level.txt").read_text().split()
        except OSError:
            tops = []
        for top in tops or [dist.lower().replace("-", "_")]:
            found[top.lower()] = version
    return found
