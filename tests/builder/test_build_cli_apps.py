"""Apps that build, through the real `python -m hoist.builder` with real uv installs from PyPI."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import zipfile
from pathlib import Path

from conftest import BuildFn, write_app

FLASK_APP = {
    "Procfile": "web: gunicorn app:app\nworker: python worker.py\n",
    "requirements.txt": "flask\ngunicorn\n",
    ".python-version": "3.12\n",
    "app.py": "from flask import Flask\napp = Flask(__name__)\n",
}


def env_python(result: dict, code: str) -> str:
    out = subprocess.run([os.path.join(result["env_dir"], "bin", "python"), "-c", code],
                         capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    return out.stdout.strip()


def test_flask_app_then_code_only_rebuild_reuses_env(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", FLASK_APP)
    first = run_build(app)
    assert first.returncode == 0, first.output
    assert first.lines[:3] == [
        "-----> Python app detected",
        "-----> Using Python 3.12.1 specified in .python-version",
        "-----> Installing dependencies with uv (requirements.txt)",
    ]
    assert any(ln.startswith("       Installed ") and "packages" in ln for ln in first.lines)
    assert not any("environment at: " in ln or "/envs/" in ln for ln in first.lines)  # hoist's paths stay private
    assert any(ln.startswith("-----> Slug size: ") for ln in first.lines)
    result = first.result
    assert result is not None
    assert result["process_types"] == {"web": "gunicorn app:app", "worker": "python worker.py"}
    assert result["python_version"] == "3.12.1" and result["app_json"] is None
    env_dir = Path(result["env_dir"])
    assert env_dir.parent == tmp_path / "home" / "envs"
    assert result["slug_size"] > 1_000_000
    # The env was built under a temp name and renamed: its scripts must still work.
    gunicorn = subprocess.run([str(env_dir / "bin" / "gunicorn"), "--version"], capture_output=True, text=True)
    assert gunicorn.returncode == 0 and "gunicorn" in gunicorn.stdout + gunicorn.stderr
    assert env_python(result, "import flask, sys; print(sys.version.split()[0])") == "3.12.1"

    (app / "app.py").write_text("from flask import Flask\napp = Flask('changed')\n")
    second = run_build(app, previous=result["metadata"])
    assert second.returncode == 0, second.output
    assert "-----> Reusing virtualenv (requirements.txt unchanged)" in second.lines
    assert not any("Installing" in ln for ln in second.lines)
    assert second.result is not None and second.result["env_dir"] == result["env_dir"]


def test_requirements_change_discards_and_prunes_old_envs(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {"Procfile": "web: python -m http.server $PORT\n",
                                       "requirements.txt": "six\n", ".python-version": "3.12\n"})
    home = tmp_path / "home"
    previous = None
    variants = ["six\n", "six\niniconfig\n", "iniconfig\n", "six==1.16.0\n"]
    keys = []
    for i, reqs in enumerate(variants):
        (app / "requirements.txt").write_text(reqs)
        run = run_build(app, app_home=home, previous=previous)
        assert run.returncode == 0, run.output
        if i:
            assert "-----> Discarding cache since: requirements.txt changed" in run.lines
        assert run.result is not None
        previous = run.result["metadata"]
        keys.append(previous["env_key"])
    assert sorted(p.name for p in (home / "envs").iterdir()) == sorted(keys[-3:])
    assert env_python(run.result, "import six; print(six.__version__)") == "1.16.0"
    # Python version change is named too.
    (app / ".python-version").write_text("3.11\n")
    run = run_build(app, app_home=home, previous=previous)
    assert "-----> Discarding cache since: Python version changed from 3.12.1 to 3.11.7" in run.lines


def test_uv_lock_app(tmp_path: Path, run_build: BuildFn, uv_cache: Path) -> None:
    from uv import find_uv_bin

    app = write_app(tmp_path / "app", {
        "Procfile": "web: python -m http.server $PORT\n",
        ".python-version": "3.12\n",
        "pyproject.toml": '[project]\nname = "uvapp"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
                          'dependencies = ["six==1.16.0"]\n[dependency-groups]\ndev = ["iniconfig"]\n',
    })
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    subprocess.run([find_uv_bin(), "lock", "--cache-dir", str(uv_cache), "--no-python-downloads"],
                   cwd=app, check=True, capture_output=True, env=env)
    run = run_build(app)
    assert run.returncode == 0, run.output
    assert "-----> Installing dependencies with uv (uv.lock)" in run.lines
    assert run.result is not None
    assert env_python(run.result, "import six; print(six.__version__)") == "1.16.0"
    assert env_python(run.result, "import importlib.util as u; print(u.find_spec('iniconfig'))") == "None"
    assert not (app / ".venv").exists()


SIX_HASHES = [
    "sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926",
    "sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
]


def test_pipfile_lock_app(tmp_path: Path, run_build: BuildFn) -> None:
    lock = {
        "_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6, "requires": {"python_version": "3.11"},
                  "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}]},
        "default": {"six": {"hashes": SIX_HASHES, "index": "pypi", "markers": "python_version >= '2.7'",
                            "version": "==1.16.0"}},
        "develop": {"iniconfig": {"hashes": [], "version": "==2.0.0"}},
    }
    app = write_app(tmp_path / "app", {"Procfile": "web: python -m http.server $PORT\n",
                                       "Pipfile": "[packages]\nsix = '*'\n", "Pipfile.lock": json.dumps(lock)})
    run = run_build(app)
    assert run.returncode == 0, run.output
    assert "-----> Using Python 3.11.7 specified in Pipfile.lock" in run.lines
    assert "-----> Installing dependencies with uv (Pipfile.lock)" in run.lines
    assert run.result is not None
    assert env_python(run.result, "import six; print(six.__version__)") == "1.16.0"
    assert env_python(run.result, "import importlib.util as u; print(u.find_spec('iniconfig'))") == "None"


POETRY_LOCK = """# This file is automatically @generated by Poetry 2.1.1 and should not be changed by hand.

[[package]]
name = "iniconfig"
version = "2.0.0"
description = "brain-dead simple config-ini parsing"
optional = false
python-versions = ">=3.7"
groups = ["dev"]
files = []

[[package]]
name = "six"
version = "1.16.0"
description = "Python 2 and 3 compatibility utilities"
optional = false
python-versions = ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*"
groups = ["main"]
files = [
    {file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"},
    {file = "six-1.16.0.tar.gz", hash = "sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"},
]

[metadata]
lock-version = "2.1"
python-versions = "^3.12"
content-hash = "0000"
"""


def test_poetry_lock_app(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {
        "Procfile": "web: python -m http.server $PORT\n", ".python-version": "3.12\n",
        "pyproject.toml": '[tool.poetry]\nname = "p"\nversion = "0.1.0"\n'
                          '[tool.poetry.dependencies]\npython = "^3.12"\nsix = "1.16.0"\n',
        "poetry.lock": POETRY_LOCK,
    })
    run = run_build(app)
    assert run.returncode == 0, run.output
    assert "-----> Installing dependencies with uv (poetry.lock)" in run.lines
    assert run.result is not None
    assert env_python(run.result, "import six; print(six.__version__)") == "1.16.0"
    assert env_python(run.result, "import importlib.util as u; print(u.find_spec('iniconfig'))") == "None"


def test_environment_yml_app(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {
        "Procfile": "web: python -m http.server $PORT\n",
        "environment.yml": "name: x\ndependencies:\n  - python=3.11\n  - pip\n  - six=1.16\n  - mkl\n"
                           "  - pip:\n    - iniconfig==2.0.0\n",
    })
    run = run_build(app)
    assert run.returncode == 0, run.output
    assert "-----> Using Python 3.11.7 specified in environment.yml" in run.lines
    assert "       These conda packages have no pip equivalent and were skipped: mkl" in run.lines
    assert run.result is not None
    assert env_python(run.result, "import six, iniconfig; print(six.__version__)") == "1.16.0"


def test_version_default_warning_then_sticky(tmp_path: Path, run_build: BuildFn) -> None:
    # The default is Heroku's, 3.14; this machine has no 3.14 and cannot download one (only PyPI is reachable),
    # so the build takes the newest Python here and says so.
    app = write_app(tmp_path / "app", {"Procfile": "web: x\n", "requirements.txt": "six\n"})
    first = run_build(app)
    assert first.returncode == 0, first.output
    assert first.lines[1:4] == [
        "-----> Installing Python 3.14 with uv (managed Python download)",
        "-----> Using Python 3.13.0 (the newest installed; the default 3.14 isn't available here)",
        " !     Warning: No Python version was specified, and the default (Python 3.14) isn't installed on this "
        "machine and could not be downloaded (`uv python install 3.14` failed: could not reach github.com: failed to "
        "lookup address information: Name or service not known); using 3.13.0, the newest installed. Put 3.13 in a "
        ".python-version file so the version never changes under you",
    ], first.output
    assert first.seconds < 15  # the download that cannot succeed fails fast
    previous = dict(first.result["metadata"], python_version="3.11.7")  # as if built on 3.11 before
    second = run_build(app, previous=previous)
    assert "-----> Using Python 3.11.7 (same as the previous build)" in second.lines


def test_runtime_txt_warns_deprecated(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {"Procfile": "web: x\n", "requirements.txt": "six\n",
                                       "runtime.txt": "python-3.11.7\n"})
    run = run_build(app)
    assert "-----> Using Python 3.11.7 specified in runtime.txt" in run.lines
    assert (" !     Warning: runtime.txt is deprecated; delete it and put 3.11 in a .python-version file "
            "instead") in run.lines


def test_hooks_see_config_vars_but_not_hoist_vars(tmp_path: Path, run_build: BuildFn) -> None:
    app = write_app(tmp_path / "app", {
        "Procfile": "web: x\n", "requirements.txt": "six\n", ".python-version": "3.12\n",
        "bin/pre_compile": 'echo "pre MY_SETTING=$MY_SETTING HOIST_SECRET=${HOIST_SECRET:-unset}"\n',
        "bin/post_compile": 'echo "post venv=$(basename $(dirname $VIRTUAL_ENV)) six=$(python -c "import six; print(six.__name__)")"\n'
                            "touch built-by-post-compile\n",
        "app.json": '{"formation": {"web": {"quantity": 1}}, "scripts": {"postdeploy": "python seed.py"}}',
    })
    os.chmod(app / "bin" / "post_compile", 0o755)  # pre_compile stays non-executable: run with bash
    run = run_build(app, env={"MY_SETTING": "on", "HOIST_SECRET": "s3cret"})
    assert run.returncode == 0, run.output
    assert "-----> Running bin/pre_compile hook" in run.lines
    assert "       pre MY_SETTING=on HOIST_SECRET=unset" in run.lines
    assert "       post venv=envs six=six" in run.lines
    assert (app / "built-by-post-compile").exists()
    assert run.result is not None
    assert run.result["app_json"]["scripts"] == {"postdeploy": "python seed.py"}
    assert run.result["app_json"]["formation"] == {"web": {"quantity": 1}}


def _wheel(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """Write a minimal pure-Python wheel (a stand-in package that needs no index)."""
    dist = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    contents[f"{dist}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    contents[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in contents.items():
            zf.writestr(path, text)
    return wheel


MANAGE_PY = """import os, sys
assert sys.argv[1:] == ["collectstatic", "--noinput"], sys.argv
if os.environ.get("BREAK_STATIC"):
    print("django.core.exceptions.ImproperlyConfigured: You're using the staticfiles app without having set the STATIC_ROOT setting")
    sys.exit(1)
os.makedirs("staticfiles", exist_ok=True)
print("1 static file copied to 'staticfiles'.")
"""


def _django_app(tmp_path: Path) -> Path:
    app = write_app(tmp_path / "app", {"Procfile": "web: gunicorn mysite.wsgi\n", ".python-version": "3.12\n",
                                       "manage.py": MANAGE_PY,
                                       "requirements.txt": "./wheels/django-0.0.1-py3-none-any.whl\n"})
    # Real Django is large; a local wheel providing the `django` package exercises the same step.
    _wheel(app / "wheels", "django", "0.0.1", {"django/__init__.py": "VERSION = (0, 0, 1)\n"})
    return app


def test_django_collectstatic(tmp_path: Path, run_build: BuildFn) -> None:
    app = _django_app(tmp_path)
    run = run_build(app)
    assert run.returncode == 0, run.output
    assert "-----> $ python manage.py collectstatic --noinput" in run.lines
    assert "       1 static file copied to 'staticfiles'." in run.lines
    assert (app / "staticfiles").is_dir()

    skipped = run_build(app, env={"DISABLE_COLLECTSTATIC": "1"})
    assert "-----> Skipping Django collectstatic since DISABLE_COLLECTSTATIC is set" in skipped.lines

    broken = run_build(app, env={"BREAK_STATIC": "1"})
    assert broken.returncode == 1
    assert broken.error_lines[0] == " !     Django's collectstatic failed:"
    assert any("STATIC_ROOT" in ln for ln in broken.error_lines)
    assert "DISABLE_COLLECTSTATIC=1" in broken.error_lines[-2]
