"""Push-to-serving time of a Flask + gunicorn app through a real hoist server.

Prints medians for: a first deploy with an empty uv cache (cold), a first
deploy of a new app whose dependencies are in the shared uv cache (warm;
when hoist runs as root each app has its own uv cache, so this is cold
too), a code-only redeploy, and a config change. "Serving" means the router
answers with the new code. Run: python bench/deploy.py [--rounds N]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo  # noqa: E402


def serve_time(server: HoistServer, repo: Path, app: str, marker: str) -> float:
    started = time.monotonic()
    server.push(repo)
    server.wait_for(app, marker, timeout=120)
    return time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-deploy-"))
    work.chmod(0o711)  # per-app users (hoist as root) must pass through to the home
    server = HoistServer(home=work / "home", user_home=work / "user")
    server.start()
    server.cli("login")
    results: dict[str, list[float]] = {"first deploy, cold uv cache": [], "first deploy, warm uv cache": [],
                                       "code-only redeploy": [], "config change (config:set)": []}
    try:
        for i in range(args.rounds):
            shutil.rmtree(server.home / "cache" / "uv", ignore_errors=True)
            for label in ("first deploy, cold uv cache", "first deploy, warm uv cache"):
                name = f"bench-{i}-{'cold' if 'cold' in label else 'warm'}"
                files = example_files("hello")
                files["app.py"] = files["app.py"].replace("from hoist", f"from hoist {name}")
                repo = make_repo(work / name, files, server.env())
                server.cli("apps:create", name, cwd=repo)
                results[label].append(serve_time(server, repo, name, name))
            name = f"bench-{i}-warm"
            repo = work / name
            commit_files(repo, {"app.py": (repo / "app.py").read_text().replace(name, f"{name}-v2")},
                         server.env(), "code only")
            results["code-only redeploy"].append(serve_time(server, repo, name, f"{name}-v2"))
            started = time.monotonic()
            server.cli("config:set", f"GREETING=round{i}", "-a", name)
            server.wait_for(name, f"round{i}")
            results["config change (config:set)"].append(time.monotonic() - started)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"push-to-serving, Flask + gunicorn, {args.rounds} rounds (seconds)")
    print(f"{'scenario':32} {'median':>8} {'min':>8} {'max':>8}")
    for label, values in results.items():
        print(f"{label:32} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")
    cold = statistics.median(results["first deploy, cold uv cache"])
    redeploy = statistics.median(results["code-only redeploy"])
    print(f"ratio cold first deploy / code-only redeploy: {cold / redeploy:.1f}x")


if __name__ == "__main__":
    main()
