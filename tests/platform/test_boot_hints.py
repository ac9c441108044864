"""Boot failures of old apps, read from a dyno's last lines (real tracebacks), and the report a refused
push, `releases:output` and the CLI show."""
from __future__ import annotations

from hoist.dynos.commands import DeployResult
from hoist.platform.boot_hints import hints
from hoist.platform.boot_report import excerpt, report, short_reason

SITE = "/apps/notes/slugs/1/.heroku/python/lib/python3.11/site-packages"
KEY_ERROR = [
    "Traceback (most recent call last):",
    '  File "/apps/notes/slugs/1/app.py", line 6, in <module>',
    "    app.config['SQLALCHEMY_DATABASE_URI'] = os.environ['DATABASE_URL']",
    "KeyError: 'DATABASE_URL'",
]
POSTGRES_SCHEME = [
    f'  File "{SITE}/sqlalchemy/util/langhelpers.py", line 501, in load',
    "    raise exc.NoSuchModuleError(",
    "sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:postgres",
]
PSYCOPG_DEFAULT = [
    f'  File "{SITE}/sqlalchemy/dialects/postgresql/psycopg.py", line 497, in import_dbapi',
    "    import psycopg",
    "ModuleNotFoundError: No module named 'psycopg'",
]
PKG_RESOURCES = [
    f'  File "{SITE}/gunicorn/util.py", line 12, in <module>',
    "    import pkg_resources",
    "ModuleNotFoundError: No module named 'pkg_resources'",
]
COLLECTIONS = [
    f'  File "{SITE}/jinja2/environment.py", line 25, in <module>',
    "    from jinja2.tests import TESTS as DEFAULT_TESTS",
    f'  File "{SITE}/jinja2/tests.py", line 13, in <module>',
    "    from collections import Mapping",
    "ImportError: cannot import name 'Mapping' from 'collections' (/usr/lib/python3.11/collections/__init__.py)",
]


def test_a_missing_add_on_variable_names_the_add_on() -> None:
    assert hints(KEY_ERROR, {"GREETING"}) == [
        "the app reads DATABASE_URL, which is not set: add Postgres: hoist addons:create heroku-postgresql. The "
        "app restarts with it; no push needed"]
    assert hints(["KeyError: 'REDISTOGO_URL'"], set()) == [
        "the app reads REDISTOGO_URL, which is not set: add Redis To Go: hoist addons:create redistogo. The app "
        "restarts with it; no push needed"]
    assert hints(["KeyError: 'SECRET_KEY'"], set()) == [
        "the app reads SECRET_KEY, which is not set: set it: hoist config:set SECRET_KEY=VALUE. The app restarts with "
        "it; no push needed"]
    assert hints(KEY_ERROR, {"DATABASE_URL"}) == []  # set: the KeyError is about something else
    assert hints(["RuntimeError: Either 'SQLALCHEMY_DATABASE_URI' or 'SQLALCHEMY_BINDS' must be set."], set()) == [
        "the app has no database URL because DATABASE_URL is not set: add Postgres: hoist addons:create "
        "heroku-postgresql. The app restarts with it; no push needed"]


def test_sqlalchemy_14_and_the_postgres_scheme() -> None:
    assert hints(POSTGRES_SCHEME, {"DATABASE_URL"}) == [
        "SQLAlchemy 1.4 and newer refuse the postgres:// scheme that DATABASE_URL has (on Heroku too): in the app, "
        "use os.environ['DATABASE_URL'].replace('postgres://', 'postgresql://', 1), or pin SQLAlchemy<1.4 in "
        "requirements.txt"]


def test_sqlalchemy_21_defaults_to_psycopg_3() -> None:
    assert hints(PSYCOPG_DEFAULT, {"DATABASE_URL"}) == [
        "SQLAlchemy 2.1 connects postgresql:// URLs with psycopg (version 3), which is not installed: add "
        "psycopg[binary] to requirements.txt, or write the scheme as postgresql+psycopg2:// to keep psycopg2, or "
        "pin SQLAlchemy<2.1"]


def test_pkg_resources_names_who_imports_it() -> None:
    assert hints(PKG_RESOURCES, set()) == [
        "gunicorn imports pkg_resources, which setuptools 81 and newer no longer include: add setuptools<81 to "
        "requirements.txt (or upgrade to gunicorn 21 or newer)"]


def test_collections_abc_names_the_package_and_the_first_version_that_works() -> None:
    assert hints(COLLECTIONS, set(), {"jinja2": "2.10"}) == [
        "Jinja2 2.10 imports Mapping from `collections`, which Python 3.10 removed (it is in collections.abc); "
        "Jinja2 2.10.2 is the first release that works: pin Jinja2>=2.10.2"]
    unknown = [ln.replace("jinja2", "oldlib") for ln in COLLECTIONS]
    assert hints(unknown, set(), {"oldlib": "0.3"}) == [
        "oldlib 0.3 imports Mapping from `collections`, which Python 3.10 removed (it is in collections.abc): pin a "
        "release of oldlib made for Python 3.10 or newer"]


def test_the_report_of_a_refused_release_ends_with_the_last_lines_and_the_exit_status() -> None:
    result = DeployResult(False, "web.1 exited with status 1 while booting", failure="boot", dyno="web.1",
                          exit_status="1", lines=tuple(KEY_ERROR), command="gunicorn app:app")
    assert short_reason(result) == "web.1 exited with status 1 while booting"
    assert report(5, 4, result, hints(KEY_ERROR, set())) == [
        " !     Release v5 failed to boot, so it was not deployed; the previous release keeps serving (v4).",
        " !     Hint: the app reads DATABASE_URL, which is not set: add Postgres: hoist addons:create "
        "heroku-postgresql. The app restarts with it; no push needed",
        " !     The last lines of web.1:",
        *("       " + line for line in KEY_ERROR),
        " !     web.1 exited with status 1 while booting.",
    ]


def test_the_report_of_a_first_release_that_went_live_crashing() -> None:
    result = DeployResult(True, "web.1 exited with status 1 while booting", failure="boot", dyno="web.1",
                          exit_status="1", lines=("KeyError: 'DATABASE_URL'",))
    assert report(2, None, result, [])[0] == (
        " !     Release v2 is live, but web.1 crashed while booting: requests get H10 (App crashed) until it "
        "starts. hoist restarts it with backoff, and every config change or add-on restarts it too.")


def test_the_report_of_a_failed_release_phase_does_not_repeat_its_streamed_output() -> None:
    result = DeployResult(False, "the release command `python migrate.py` exited with status 2; the previous "
                          "release keeps serving", failure="release", dyno="release.1", exit_status="2",
                          lines=("boom",), command="python migrate.py")
    assert report(7, 6, result, [], lines_shown=True) == [
        " !     Release v7 failed: the release command `python migrate.py` exited with status 2; the previous release "
        "keeps serving",
        " !     release.1 exited with status 2.",
    ]


def test_the_excerpt_keeps_the_first_tracebacks_error_and_the_last_lines() -> None:
    worker = ["[INFO] Booting worker", "Traceback (most recent call last):",
              *(f'  File "/x/gunicorn/f{i}.py", line {i}' for i in range(10)), *KEY_ERROR[1:], "[INFO] Worker exiting"]
    master = ["Traceback (most recent call last):", *(f'  File "/x/arbiter.py", line {i}' for i in range(20)),
              "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>"]
    shown = excerpt(worker + master)
    assert len(shown) == 20 and "..." in shown
    assert shown[: shown.index("...")][-1] == "KeyError: 'DATABASE_URL'"
    assert shown[-1] == "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>"
    assert excerpt(KEY_ERROR) == KEY_ERROR
