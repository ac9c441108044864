"""Benchmark pipelines:promote on a real hoist server: the time from POST /pipeline-promotions to the target's
new release succeeded (the slug copied, the release phase run, the new web dyno up and serving), with the
copy on its own, beside a `git push` of the same code to the production app (a rebuild, with its cache).

Run: .venv/bin/python bench/promote.py [--runs 5]
Starts a hoist server in a temp home (everything on 127.0.0.1), prints the figures, cleans up.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.e2e.conftest import remove_app_users  # noqa: E402
from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo  # noqa: E402

STAGING, PROD = "bench-staging", "bench-prod"
_COPIED = re.compile(r"slug copied in ([0-9.]+)s")


def promote_once(server: HoistServer, pipeline_id: str, source_id: str, target_id: str) -> float:
    started = time.monotonic()
    r = server.api("POST", "/pipeline-promotions", json={
        "pipeline": {"id": pipeline_id}, "source": {"app": {"id": source_id}}, "targets": [{"app": {"id": target_id}}]})
    assert r.status_code == 201, r.text
    while True:
        targets = server.api("GET", f"/pipeline-promotions/{r.json()['id']}/promotion-targets").json()
        if targets[0]["status"] != "pending":
            assert targets[0]["status"] == "succeeded", targets
            return time.monotonic() - started
        time.sleep(0.02)


def show(label: str, values: list[float]) -> None:
    print(f"  {label:<44} median {statistics.median(values):6.2f}s  min {min(values):6.2f}s  "
          f"max {max(values):6.2f}s  (n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-promote-"))
    work.chmod(0o711)
    server = HoistServer(home=work / "home", user_home=work / "user")
    server.start()
    try:
        server.cli("login")
        for app in (STAGING, PROD):
            server.cli("apps:create", app)
        repo = make_repo(work / "repo", example_files("hello"), server.env())
        server.git(repo, "remote", "add", "staging", f"{server.url}/{STAGING}.git")
        server.git(repo, "remote", "add", "prod", f"{server.url}/{PROD}.git")
        server.push(repo, "staging")
        server.cli("pipelines:create", "bench", "-a", STAGING, "--stage", "staging")
        server.cli("pipelines:add", "bench", "-a", PROD, "--stage", "production")
        pipeline = server.api("GET", "/pipelines/bench").json()["id"]
        source = server.api("GET", f"/apps/{STAGING}").json()["id"]
        target = server.api("GET", f"/apps/{PROD}").json()["id"]
        promotions = [promote_once(server, pipeline, source, target) for _ in range(args.runs)]
        server.wait_for(PROD, "from hoist")
        logs = server.cli("logs", "-n", "1500", "-a", PROD).stdout
        copies = [float(m) for m in _COPIED.findall(logs)]
        pushes = []
        for i in range(args.runs):  # the same code deployed by a rebuild (the build cache is warm after the first)
            commit_files(repo, {"README.md": f"run {i}\n"}, server.env(), f"run {i}")
            started = time.monotonic()
            server.push(repo, "prod")
            pushes.append(time.monotonic() - started)
        slug = server.api("GET", f"/apps/{STAGING}").json()["slug_size"]
        print(f"pipelines:promote, {STAGING} -> {PROD} (examples/hello: Flask + gunicorn, slug {slug / 1e6:.1f} MB "
              "with its virtualenv)")
        show("promotion: POST to the release serving", promotions)
        show("  of which: copying the slug and its env", copies)
        show("git push of the same code (rebuild, warm cache)", pushes[1:] or pushes)
        show("git push, the first (cold cache for this app)", pushes[:1])
    finally:
        if server.proc and server.proc.poll() is None:
            server.stop()
        remove_app_users(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
