"""Background workers on hoist's brokers, as the tutorials deploy them: a Flask app with a Celery worker on
`rabbitmq-bigwig` plus Postgres, and an RQ worker reading REDISTOGO_URL from `redistogo:nano`."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from hoist.addons.amqp.server import DEFAULT_BIN
from tests.e2e.harness import HoistServer, example_files, make_repo

pika = pytest.importorskip("pika")
needs_rabbitmq = pytest.mark.skipif(not (DEFAULT_BIN / "rabbitmq-server").exists(),
                                    reason="rabbitmq-server is not installed (apt-get install rabbitmq-server)")


def config(server: HoistServer, app: str) -> dict[str, str]:
    return server.api("GET", f"/apps/{app}/config-vars").json()


def post(server: HoistServer, app: str, path: str, data: dict[str, str]) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{server.port}{path}", data=data, headers={"Host": f"{app}.localhost"},
                      timeout=30)


def wait_result(server: HoistServer, app: str, path: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = server.app_get(app, path)
        if last.status_code == 200:
            return dict(last.json())
        time.sleep(0.3)
    logs = server.cli("logs", "-n", "80", "-a", app).stdout
    raise AssertionError(f"no result at {path}: {last!r} {getattr(last, 'text', '')}\n{logs}")


def wait_worker_up(server: HoistServer, app: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dynos = server.api("GET", f"/apps/{app}/dynos").json()
        if any(d["name"] == "worker.1" and d["state"] == "up" for d in dynos):
            return
        time.sleep(0.3)
    raise AssertionError(server.cli("logs", "-n", "60", "-a", app).stdout)


def amqp(url: str) -> Any:
    return pika.BlockingConnection(pika.URLParameters(url + "?connection_attempts=1&socket_timeout=10"))


@needs_rabbitmq
def test_celery_worker_on_rabbitmq_bigwig_stores_results_in_postgres(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "celery", example_files("celery-worker"), server.env())
    server.cli("apps:create", "words", cwd=repo)
    server.cli("addons:create", "heroku-postgresql", "-a", "words")
    started = time.monotonic()
    out = server.cli("addons:create", "rabbitmq-bigwig", "-a", "words").stdout
    first_s = time.monotonic() - started
    assert re.search(r"Created rabbitmq-bigwig-[a-z]+-\d{5} as RABBITMQ_BIGWIG_URL, RABBITMQ_BIGWIG_RX_URL, "
                     r"RABBITMQ_BIGWIG_TX_URL", out), out
    cfg = config(server, "words")
    url = cfg["RABBITMQ_BIGWIG_URL"]
    assert re.match(r"^amqp://[a-z0-9-]+:[A-Za-z0-9]{32}@127\.0\.0\.1:\d+/rabbitmq-bigwig-[a-z]+-\d{5}$", url), url
    assert cfg["RABBITMQ_BIGWIG_RX_URL"] == cfg["RABBITMQ_BIGWIG_TX_URL"] == url
    amqp(url).close()  # usable as soon as addons:create returns
    assert first_s < 120

    server.push(repo)
    server.cli("ps:scale", "worker=1", "-a", "words")
    wait_worker_up(server, "words")
    r = post(server, "words", "/start", {"text": "the cat and the hat and the bat"})
    assert r.status_code == 202, r.text
    result = wait_result(server, "words", f"/results/{r.json()['task_id']}")
    assert result["status"] == "done" and result["word_counts"]["the"] == 3 and result["word_counts"]["and"] == 2
    rows = server.cli("pg:psql", "-c", "SELECT task_id, word_counts FROM results", "-a", "words").stdout
    assert r.json()["task_id"] in rows and "(1 row)" in rows
    logs = server.cli("logs", "-n", "200", "-d", "worker", "-a", "words").stdout
    assert "counted 8 words" in logs, logs

    listed = server.cli("addons", "-a", "words").stdout
    assert "rabbitmq-bigwig:pipkin" in listed and "heroku-postgresql:essential-0" in listed
    info = server.cli("addons:info", "RABBITMQ_BIGWIG", "-a", "words").stdout
    assert "words::RABBITMQ_BIGWIG" in info and "RABBITMQ_BIGWIG_RX_URL" in info and "rabbitmq-bigwig" in info
    attachments = server.api("GET", "/apps/words/addon-attachments").json()
    bigwig = [a for a in attachments if a["name"] == "RABBITMQ_BIGWIG"]
    assert len(bigwig) == 1 and len(bigwig[0]["config_vars"]) == 3


@needs_rabbitmq
def test_b_cannot_open_as_vhost_and_destroy_removes_the_vhost(server: HoistServer) -> None:
    server.cli("apps:create", "other-words")
    started = time.monotonic()
    server.cli("addons:create", "cloudamqp", "-a", "other-words")
    later_s = time.monotonic() - started
    a_url, b_url = config(server, "words")["RABBITMQ_BIGWIG_URL"], config(server, "other-words")["CLOUDAMQP_URL"]
    a, b = httpx.URL(a_url), httpx.URL(b_url)
    assert a.port == b.port and a.path != b.path and a.username != b.username
    amqp(b_url).close()
    crossed = f"amqp://{b.username}:{b.password}@127.0.0.1:{b.port}{a.path}"
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError, match="access to vhost"):
        amqp(crossed)
    assert later_s < 60

    out = server.cli("addons:destroy", "CLOUDAMQP", "--confirm", "other-words", "-a", "other-words").stdout
    assert "done" in out and "CLOUDAMQP_URL" not in config(server, "other-words")
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        amqp(b_url)
    amqp(a_url).close()  # the other add-on's vhost is untouched


def test_missing_rabbitmq_package_says_which_apt_get_install_to_run(workdir: Path) -> None:
    srv = HoistServer(home=workdir / "norabbit", user_home=workdir / "norabbit-user",
                      extra_env={"HOIST_RABBITMQ_BIN": str(workdir / "no-such-dir")})
    srv.start()
    try:
        srv.cli("apps:create", "lonely")
        out = srv.cli("addons:create", "rabbitmq-bigwig", "-a", "lonely", check=False)
        assert out.returncode == 1 and "apt-get install -y rabbitmq-server" in out.stderr, out.stderr
        assert srv.api("GET", "/apps/lonely/addons").json() == []
        assert "RABBITMQ_BIGWIG_URL" not in config(srv, "lonely")
    finally:
        srv.stop()


def test_rq_worker_reads_redistogo_url(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "rq", example_files("rq-worker"), server.env())
    server.cli("apps:create", "queue", cwd=repo)
    out = server.cli("addons:create", "redistogo:nano", "-a", "queue").stdout
    assert re.search(r"Created redistogo-[a-z]+-\d{5} as REDISTOGO_URL", out), out
    assert config(server, "queue")["REDISTOGO_URL"].startswith("redis://:")
    server.push(repo)
    server.cli("ps:scale", "worker=1", "-a", "queue")
    wait_worker_up(server, "queue")
    r = post(server, "queue", "/start", {"text": "to be or not to be"})
    assert r.status_code == 202, r.text
    result = wait_result(server, "queue", f"/results/{r.json()['job_id']}")
    assert result == {"status": "done", "word_counts": {"to": 2, "be": 2, "or": 1, "not": 1}}
    assert "redistogo:nano" in server.cli("addons", "-a", "queue").stdout


def test_rq_worker_in_the_tutorials_order_needs_no_second_push(server: HoistServer, workdir: Path) -> None:
    """Flask by Example's order: push, then `addons:create redistogo:nano` and `ps:scale worker=1`."""
    repo = make_repo(workdir / "rq-order", example_files("rq-worker"), server.env())
    server.cli("create", "queue2", cwd=repo)
    server.git(repo, "push", "heroku", "HEAD:master")
    server.cli("addons:create", "redistogo:nano", "-a", "queue2")
    server.cli("ps:scale", "worker=1", "-a", "queue2")
    wait_worker_up(server, "queue2")
    deadline = time.monotonic() + 60
    while True:  # the web dyno restarts with REDISTOGO_URL; until then it queues on localhost
        r = post(server, "queue2", "/start", {"text": "one two two"})
        if r.status_code == 202 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 202, r.text
    result = wait_result(server, "queue2", f"/results/{r.json()['job_id']}")
    assert result == {"status": "done", "word_counts": {"two": 2, "one": 1}}
    assert len(server.api("GET", "/apps/queue2/builds").json()) == 1


def test_services_and_plans_are_listed(server: HoistServer) -> None:
    out = server.cli("addons:services").stdout
    for slug in ("heroku-postgresql", "heroku-redis", "redistogo", "rediscloud", "rabbitmq-bigwig", "cloudamqp",
                 "amqp", "scheduler"):
        assert re.search(rf"^{re.escape(slug)}\s", out, re.M), out
    plans = server.cli("addons:plans", "redistogo").stdout
    assert re.search(r"^default\s+redistogo:nano\s", plans, re.M) and "redistogo:large" in plans
    services = server.api("GET", "/addon-services").json()
    bigwig = next(s for s in services if s["name"] == "rabbitmq-bigwig")
    by_id = server.api("GET", f"/addon-services/{bigwig['id']}/plans").json()
    assert [p["name"] for p in by_id] == ["rabbitmq-bigwig:pipkin"] and by_id[0]["default"]
    assert by_id[0]["price"] == {"cents": 0, "contract": False, "unit": "month"}
    missing = server.cli("addons:plans", "heroku-kafka", check=False)
    assert missing.returncode == 1 and "addons:services" in missing.stderr
