"""HOIST_SCHEDULER=swarm end to end on a 3-node local swarm (scripts/local-swarm): a real hoist server,
a real git push (the slug becomes an image pushed to the swarm's registry), `ps:scale web=4` spreads
the web dynos over the nodes, `ps` names each dyno's node, and requests through hoist's router answer
from tasks on more than one node; a code-only deploy switches to the new release with no failed
request; a rollback reuses the old image. Root only; timings printed."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path


from tests.cluster.common import DOCKER, REQUIRES, wait
from tests.e2e.harness import HoistServer, Load, commit_files, example_files, make_repo

PREFIX = "hsch"

pytestmark = REQUIRES

APP_PY = '''import os
from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return f"CODE {os.environ.get('DYNO', '?')} on {os.environ.get('HOIST_NODE', 'here')}\\n"
'''



def files(code: str) -> dict[str, str]:
    f = example_files("hello")
    f["app.py"] = APP_PY.replace("CODE", code)
    f["Procfile"] = "web: gunicorn app:app\n"
    return f



def test_push_scale_spread_route_deploy_rollback(server: HoistServer, workdir: Path, swarm: dict[str, str]) -> None:
    repo = make_repo(workdir / "spread", files("v1"), server.env())
    server.cli("apps:create", "spread", cwd=repo)
    t0 = time.monotonic()
    server.push(repo)
    server.wait_for("spread", "v1 web.1 on", timeout=120)
    print(f"push to serving on the swarm (cold image): {time.monotonic() - t0:.1f}s")

    t0 = time.monotonic()
    server.cli("ps:scale", "web=4", cwd=repo)

    def ps() -> str:
        return server.cli("ps", cwd=repo).stdout
    wait(lambda: len(re.findall(r"web\.\d: up .* on hsch-n\d", ps())) == 4, 90, ps)
    print(f"ps:scale web=4, all up: {time.monotonic() - t0:.1f}s")
    nodes = set(re.findall(r"on (hsch-n\d)", ps()))
    assert len(nodes) >= 2, f"4 web dynos on one node only: {ps()}"
    services = subprocess.run([DOCKER, "service", "ls", "--format", "{{.Name}} {{.Replicas}}"],
                              env={**os.environ, **swarm}, capture_output=True, text=True, check=True).stdout
    assert len(re.findall(r"^hoist-spread-web-\d-\w+ \d/1$", services, re.MULTILINE)) == 4, services  # one per dyno

    answered: set[str] = set()
    for _ in range(40):
        r = server.app_get("spread")
        assert r.status_code == 200, r.text
        answered.add(r.text.split(" on ")[1].strip())
    assert len(answered) >= 2 and answered <= nodes, answered
    print(f"40 requests through the router answered from {sorted(answered)}")

    # A code-only deploy under load: the router switches once the new release's tasks answer.
    commit_files(repo, files("v2"), server.env(), "v2")
    t0 = time.monotonic()
    with Load(server, "spread") as load:
        server.push(repo)
        server.wait_for("spread", "v2 web.", timeout=120)
        time.sleep(1)
    print(f"deploy v2 push to serving: {time.monotonic() - t0:.1f}s; {load.ok} requests ok, {len(load.failures)} failed")
    assert load.ok > 0 and not load.failures, load.failures[:5]
    wait(lambda: "v1" not in subprocess.run([DOCKER, "service", "ls", "--format", "{{.Name}}"],
                                            env={**os.environ, **swarm}, capture_output=True, text=True).stdout
         and len(re.findall(r"hoist-spread-web", subprocess.run(
             [DOCKER, "service", "ls", "--format", "{{.Name}}"], env={**os.environ, **swarm}, capture_output=True,
             text=True).stdout)) == 4, 60, lambda: "the old release's services are still there")

    # A rollback: the v1 image is in the registry already; nothing is built.
    images = subprocess.run([DOCKER, "image", "ls", "-q"], env={**os.environ, **swarm}, capture_output=True,
                            text=True).stdout.split()
    server.cli("rollback", cwd=repo)  # to the release before: v1's code
    server.wait_for("spread", "v1 web.", timeout=120)
    after = subprocess.run([DOCKER, "image", "ls", "-q"], env={**os.environ, **swarm}, capture_output=True,
                           text=True).stdout.split()
    assert set(after) == set(images), "a rollback built a new image"
