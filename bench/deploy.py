"""Push-to-serving time of a Flask + gunicorn app through a real hoist server.

Prints medians for: a first deploy with an empty uv cache (cold), a first
deploy of a new app whose dependencies are in the shared uv cache (warm;
when hoist runs as root each app has its own uv cache, so this is cold
too), a code-only redeploy, and a config change. "Serving" means the router
answers with the new code. Run: python bench/deploy.py [--rounds N]

With --baseline REF (e.g. main): code-only redeploys only, this hoist against the
hoist of REF (a git worktree), alternating round by round in one run; prints both
medians and their ratio.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baseline import describe, worktree  # noqa: E402
from tests.e2e.conftest import remove_app_users  # noqa: E402
from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo  # noqa: E402


def serve_time(server: HoistServer, repo: Path, app: str, marker: str) -> float:
    started = time.monotonic()
    server.push(repo)
    server.wait_for(app, marker, timeout=120)
    return time.monotonic() - started


def compare(ref: str, rounds: int) -> None:
    """Code-only redeploys: the hoist of `ref` and this one, alternating, in one run."""
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-deploy-"))
    work.chmod(0o711)
    times: dict[str, list[float]] = {}
    servers: dict[str, tuple[HoistServer, Path]] = {}
    try:
        with worktree(ref) as old_src:
            for label, src in ((f"before ({describe(ref)})", old_src), ("after (this hoist)", None)):
                tag = "old" if src is not None else "new"
                server = HoistServer(home=work / tag / "home", user_home=work / tag / "user",
                                     extra_env={"PYTHONPATH": str(src)} if src is not None else {})
                server.start(timeout=120)
                server.cli("login")
                name = f"{tag}-redeploy-{os.getpid() % 100000}"  # app users are per machine: one name per run
                files = example_files("hello")
                files["app.py"] = files["app.py"].replace("from hoist", f"from hoist {name}-0")
                repo = make_repo(work / tag / name, files, server.env())
                server.cli("apps:create", name, cwd=repo)
                serve_time(server, repo, name, f"{name}-0")
                servers[label] = (server, repo)
                times[label] = []
            for i in range(1, rounds + 1):
                for label, (server, repo) in servers.items():
                    name = repo.name
                    commit_files(repo, {"app.py": (repo / "app.py").read_text().replace(f"{name}-{i - 1}", f"{name}-{i}")},
                                 server.env(), f"round {i}")
                    times[label].append(serve_time(server, repo, name, f"{name}-{i}"))
    finally:
        for server, repo in servers.values():
            if server.proc and server.proc.poll() is None:
                server.stop()
            remove_app_users(repo.parent)
        shutil.rmtree(work, ignore_errors=True)
    print(f"code-only redeploy, push to serving, Flask + gunicorn, {rounds} rounds each (seconds)")
    print(f"{'hoist':60} {'median':>8} {'min':>8} {'max':>8}")
    for label, values in times.items():
        print(f"{label[:60]:60} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")
    old, new = (statistics.median(v) for v in times.values())
    print(f"ratio after / before: {new / old:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline", help="compare code-only redeploys with the hoist of this git ref (e.g. main)")
    args = ap.parse_args()
    if args.baseline:
        compare(args.baseline, args.rounds)
        return
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
