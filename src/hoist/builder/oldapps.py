"""Failures an old app meets only when its dynos start, found at build time from the versions
that were installed (pure over {project: version}). Each says which pin fixes it.

An app pinned only `Flask==1.0.2`, as tutorials did, gets today's Jinja2, itsdangerous and
Werkzeug, which removed what Flask 1.x imports; gunicorn before 21 imports pkg_resources,
which setuptools 81 and newer no longer has."""
from __future__ import annotations

from pathlib import Path

from hoist.builder.pyversion import version_key
from hoist.builder.reqfile import normalize

# (package, older than, dependency, at least, what the package imports that the dependency removed, fix)
_RULES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("flask", "2.0", "jinja2", "3.1", "jinja2.Markup (removed in Jinja2 3.1)", "Jinja2<3.1"),
    ("flask", "2.0", "itsdangerous", "2.1", "itsdangerous.json (removed in itsdangerous 2.1)", "itsdangerous<2.1"),
    ("flask", "2.0", "werkzeug", "2.1", "werkzeug.wrappers.BaseResponse (removed in Werkzeug 2.1)", "Werkzeug<2.1"),
    ("flask", "2.3", "werkzeug", "3.0", "werkzeug.urls.url_quote (removed in Werkzeug 3.0)", "Werkzeug<3"),
    ("jinja2", "3.0", "markupsafe", "2.1", "markupsafe.soft_unicode (removed in MarkupSafe 2.1)", "MarkupSafe<2.1"),
    ("flask-sqlalchemy", "3.0", "sqlalchemy", "2.0", "sqlalchemy.__all__ (gone in SQLAlchemy 2.0)", "SQLAlchemy<2"),
    ("flask-sqlalchemy", "3.0", "flask", "3.0", "flask._app_ctx_stack (removed in Flask 3.0)", "Flask<3"),
)


def installed_versions(env_dir: Path) -> dict[str, str]:
    """{normalized project name: version} from the env's .dist-info directories (no Python started)."""
    found: dict[str, str] = {}
    for site in env_dir.glob("lib/python*/site-packages"):
        for info in site.glob("*.dist-info"):
            name, _, version = info.name[: -len(".dist-info")].partition("-")
            found[normalize(name)] = version
    return found


def has_pkg_resources(env_dir: Path) -> bool:
    return any((site / "pkg_resources" / "__init__.py").is_file() for site in env_dir.glob("lib/python*/site-packages"))


def _older(version: str, than: str) -> bool:
    return version_key(version)[:2] < version_key(than)[:2]


def warnings(versions: dict[str, str], pkg_resources: bool, manager_file: str) -> list[str]:
    """What will break when the app starts, and the pin that fixes each."""
    out, said = [], set()
    for pkg, before, dep, since, what, fix in _RULES:
        if (pkg, dep) in said:
            continue  # the first rule's pin fixes the later ones too
        if pkg in versions and dep in versions and _older(versions[pkg], before) and not _older(versions[dep], since):
            said.add((pkg, dep))
            out.append(f"{pkg} {versions[pkg]} imports {what}, and {dep} {versions[dep]} was installed: the app will "
                       f"fail to start; add `{fix}` to {manager_file}")
    gunicorn = versions.get("gunicorn")
    if gunicorn and _older(gunicorn, "21.0") and not pkg_resources:
        out.append(f"gunicorn {gunicorn} imports pkg_resources when it starts, and this virtualenv has none (hoist "
                   "installs setuptools for requirements.txt apps on Python 3.12 and older, as Heroku does; "
                   f"setuptools 81 and newer has no pkg_resources): add `setuptools<81` to {manager_file} or "
                   "upgrade to gunicorn 21 or newer, or the web dyno will fail to boot")
    return out
