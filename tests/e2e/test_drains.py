"""Log drains end to end: a real TLS syslog receiver (an asyncio listener in this test, parsing octet-counted
frames) gets every line of a dyno in order across a restart of the receiver; drains outlive a hoist restart;
bad URLs are refused with what to send; an unreachable host and a certificate that does not verify block
nothing and say so; a drain URL is a secret (masked, never logged)."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.e2e.conftest import remove_app_users
from tests.e2e.harness import HoistServer, example_files, make_repo
from tests.e2e.heroku_cli import Heroku, heroku_bin
from tests.logs.receivers import HttpsReceiver, SyslogReceiver, free_port, make_ca

APP = "drained"
TICKER = "import time\ni = 0\nwhile True:\n    print(f'tick {i}', flush=True)\n    i += 1\n    time.sleep(0.05)\n"
SECRET = "s3cr3t-drain-pw"
TOKEN = "TOKENabc123xyz"


@pytest.fixture(scope="module")
def tls(workdir: Path):  # type: ignore[no-untyped-def]
    return make_ca(workdir / "drain-ca")


@pytest.fixture(scope="module")
def server(workdir: Path, tls) -> Iterator[HoistServer]:  # type: ignore[no-untyped-def]
    ca, _ = tls
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user", extra_env={"HOIST_DRAIN_CA_FILE": str(ca)})
    srv.start()
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()
    remove_app_users(workdir)


@pytest.fixture(scope="module")
def app(server: HoistServer, workdir: Path) -> str:
    server.cli("apps:create", APP)
    files = {**example_files("hello"), "ticker.py": TICKER, "Procfile": "web: gunicorn app:app\nticker: python ticker.py\n"}
    repo = make_repo(workdir / "repo", files, server.env())
    server.git(repo, "remote", "add", "hoist", f"{server.url}/{APP}.git")
    server.push(repo)
    server.wait_for(APP, "from hoist")
    return APP


@pytest.fixture(scope="module")
def receiver(tls) -> Iterator[SyslogReceiver]:  # type: ignore[no-untyped-def]
    _, ctx = tls
    rx = SyslogReceiver(ctx).start()
    yield rx
    rx.close()


def ticks(texts: list[str]) -> list[int]:
    return [int(t.rsplit("tick ", 1)[1]) for t in texts if " app ticker.1 - tick " in t]


def drains(server: HoistServer) -> list[dict]:  # type: ignore[type-arg]
    return server.api("GET", f"/apps/{APP}/log-drains").json()


def wait(check, timeout: float = 30):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_every_line_in_order_across_a_receiver_restart(server: HoistServer, app: str,
                                                       receiver: SyslogReceiver) -> None:
    url = f"syslog+tls://localhost:{receiver.port}"
    out = server.cli("drains:add", url, "-a", app).stdout
    assert f"Successfully added drain {url}" in out
    listed = server.cli("drains", "-a", app).stdout
    assert url in listed and re.search(r"d\.[0-9a-f-]{36}", listed)
    server.cli("ps:scale", "ticker=1", "-a", app)
    receiver.wait_for(lambda t: len(ticks(t)) >= 40)
    first = receiver.texts()[0]
    assert re.match(r"<\d+>1 \S+ d\.[0-9a-f-]{36} (app|heroku) \S+ - ", first), first
    receiver.stop()  # down for 3 s; the ticker goes on (about 60 lines)
    time.sleep(3)
    down = wait(lambda: [d for d in drains(server) if d["status"]["state"] == "failing"])
    assert "refused" in down[0]["status"]["error"]
    receiver.start()
    seen = ticks(receiver.texts())
    receiver.wait_for(lambda t: len(ticks(t)) >= len(seen) + 100)
    server.cli("ps:scale", "ticker=0", "-a", app)
    got = ticks(receiver.texts())
    assert got == list(range(len(got))), f"gaps or disorder: {[(a, b) for a, b in zip(got, got[1:]) if b != a + 1]}"
    assert receiver.connections >= 2
    logs = server.cli("logs", "-n", "1500", "-a", app).stdout
    assert "Drain delivery error" in logs and "Drain delivering again" in logs
    assert wait(lambda: drains(server)[0]["status"]["state"] == "delivering")


def test_drains_survive_a_hoist_restart(server: HoistServer, app: str, receiver: SyslogReceiver) -> None:
    before = drains(server)
    server.stop()
    server.start()
    assert [d["token"] for d in drains(server)] == [d["token"] for d in before]
    count = len(receiver.messages)
    server.wait_for(app, "from hoist")
    texts = receiver.wait_for(lambda t: any(" heroku router - " in x for x in t[count:]))
    assert any(f"host={app}.localhost" in x for x in texts[count:] if " heroku router - " in x)


def test_bad_schemes_are_refused(server: HoistServer, app: str) -> None:
    for url, words in (("ftp://logs.example.com:21", "'ftp' is not supported"),
                       ("http://logs.example.com/x", "in the clear"),
                       ("syslog+tls://logs.example.com", "needs a port")):
        bad = server.cli("drains:add", url, "-a", app, check=False)
        assert bad.returncode != 0 and words in bad.stderr and "syslog+tls://" in bad.stderr
    assert len(drains(server)) == 1
    dup = server.cli("drains:add", drains(server)[0]["url"], "-a", app, check=False)
    assert dup.returncode != 0 and "already drains to" in dup.stderr


def test_an_unreachable_host_blocks_nothing(server: HoistServer, app: str) -> None:
    url = f"syslog+tls://localhost:{free_port()}"
    server.cli("drains:add", url, "-a", app)
    wait(lambda: [d for d in drains(server) if d["url"] == url and d["status"]["state"] == "failing"])
    assert server.app_get(app).status_code == 200  # the app serves on
    logs = server.cli("logs", "-n", "300", "-a", app).stdout
    assert re.search(rf"heroku\[logplex\]: Drain delivery error: localhost:\d+ refused the connection.*\(drain {re.escape(url)}\)",
                     logs), logs[-2000:]
    listed = server.cli("drains", "-a", app).stdout
    assert "failing" in listed and "refused" in listed
    server.cli("drains:remove", url, "-a", app)
    assert url not in server.cli("drains", "-a", app).stdout


def test_a_certificate_that_does_not_verify_sends_nothing(server: HoistServer, app: str, workdir: Path) -> None:
    _, other_ctx = make_ca(workdir / "untrusted-ca")  # a CA hoist was not told about
    rx = SyslogReceiver(other_ctx).start()
    try:
        url = f"syslog+tls://localhost:{rx.port}"
        server.cli("drains:add", url, "-a", app)
        server.app_get(app)  # a line to send
        bad = wait(lambda: [d for d in drains(server) if d["url"] == url and d["status"]["state"] == "failing"])
        assert "does not verify" in bad[0]["status"]["error"]
        logs = server.cli("logs", "-n", "300", "-a", app).stdout
        assert "Error L14 (certificate validation error)" in logs
        assert rx.bytes == 0 and rx.messages == []
        server.cli("drains:remove", bad[0]["token"], "-a", app)  # by token
    finally:
        rx.close()


def test_a_drain_url_is_a_secret(server: HoistServer, app: str, tls) -> None:  # type: ignore[no-untyped-def]
    _, ctx = tls
    rx = HttpsReceiver(ctx)
    try:
        url = f"https://user:{SECRET}@localhost:{rx.port}/logs/{TOKEN}"
        added = server.cli("drains:add", url, "-a", app).stdout
        masked = f"https://***@localhost:{rx.port}/***"
        assert masked in added and SECRET not in added
        server.app_get(app)
        wait(lambda: rx.posts)
        headers, frames = rx.posts[0]
        assert headers["logplex-msg-count"] == str(len(frames)) and headers["logplex-drain-token"].startswith("d.")
        api = server.api("GET", f"/apps/{app}/log-drains").text
        cli = server.cli("drains", "-a", app).stdout
        logs = server.cli("logs", "-n", "1500", "-a", app).stdout
        activity = server.cli("activity", "-a", app, check=False).stdout
        for text in (api, cli, logs, activity, "\n".join(server.output)):
            assert SECRET not in text and TOKEN not in text
        assert masked in cli
        server.cli("drains:remove", url, "-a", app)  # the full URL finds it
        assert all(d["url"] != masked for d in drains(server))
    finally:
        rx.close()


@pytest.mark.skipif(heroku_bin() is None, reason="the heroku CLI is not installed: run .ci/run")
def test_the_heroku_cli_adds_lists_and_removes_drains(server: HoistServer, app: str, workdir: Path,
                                                      receiver: SyslogReceiver) -> None:
    heroku = Heroku(server, workdir / "heroku-home")
    url = f"syslog+tls://127.0.0.1:{receiver.port}/{TOKEN}"
    out = heroku("drains:add", url, "-a", app).stdout
    masked = f"syslog+tls://127.0.0.1:{receiver.port}/***"
    assert f"Successfully added drain {masked}" in out
    listed = heroku("drains", "-a", app).stdout
    assert re.search(rf"{re.escape(masked)} \(d\.[0-9a-f-]{{36}}\)", listed) and TOKEN not in listed
    assert "drain_id=" in heroku("drains", "--extended", "-a", app).stdout
    assert f"Successfully removed drain {masked}" in heroku("drains:remove", url, "-a", app).stdout
    assert masked not in heroku("drains", "-a", app).stdout


def test_only_the_admin_drains_to_a_private_network(server: HoistServer) -> None:
    """Another user's drain must not make hoist connect to hosts and ports inside (loopback here)."""
    out = server.cli("users:add", "dora@example.com").stdout
    password = re.search(r"Password \(shown once.*\): (\S+)", out).group(1)  # type: ignore[union-attr]
    r = httpx.post(server.url + "/oauth/authorizations", auth=("dora@example.com", password), json={"description": "t"})
    dora = r.json()["access_token"]["token"]
    assert server.api("POST", "/apps", token=dora, json={"name": "doras"}).status_code == 201
    for url in (f"syslog+tls://127.0.0.1:{free_port()}", "https://localhost/drain", "syslog://10.1.2.3:514"):
        r = server.api("POST", "/apps/doras/log-drains", token=dora, json={"url": url})
        assert r.status_code == 422 and "only the admin may add a drain on a private network" in r.text, r.text
    assert server.api("GET", "/apps/doras/log-drains", token=dora).json() == []
