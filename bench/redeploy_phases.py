"""A code-only redeploy (a changed app.py pushed to a Flask + gunicorn app) split into phases, as
bench/deploy.py pushes it: medians per phase, for this hoist and, with --baseline REF, the hoist of
REF beside it (alternating round by round in one run).

Timestamps come from two sides: this script (the push starts, `git push` returns, the router serves
the new code) and the server, which bench/phase_probe/sitecustomize.py makes append one line per
event (git requests, the hook's call, unpacking, the builder's exec, first and last lines, the slug,
the release, the dyno's spawn, its readiness, the switch, the old dyno's stop). The probe only wraps
functions; the server runs unchanged. Run as root for containment (isolated builds, cgroups):

    python bench/redeploy_phases.py [--rounds 7] [--baseline main]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baseline import describe, worktree  # noqa: E402
from tests.e2e.conftest import remove_app_users  # noqa: E402
from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo  # noqa: E402

PROBE = ROOT / "bench" / "phase_probe"

# (label, from event, to event): consecutive spans of the push's critical path, then what runs beside it.
PATH = [
    ("git client: pack, info/refs, POST receive-pack", "push", "git.git-receive-pack"),
    ("receive-pack: index-pack, hook starts, connects", "git.git-receive-pack", "hook.connected"),
    ("unpack: git archive streamed and untarred", "hook.connected", "unpack.end"),
    ("app.json and config before the build", "unpack.end", "builder.start"),
    ("builder: give the tree to the app user, exec", "builder.start", "builder.exec"),
    ("builder: interpreter start and imports", "builder.exec", "builder.first_line"),
    ("builder: detect, Python, lock check", "builder.first_line", "builder.env_decided"),
    ("builder: env reused to last line (checks, sizes)", "builder.env_decided", "builder.last_line"),
    ("builder: exit and result", "builder.last_line", "builder.end"),
    ("slug record, app.json, defaults", "builder.end", "release.start"),
    ("release record", "release.start", "supervisor.deploy.start"),
    ("spawn the web dyno (shim, cgroup)", "supervisor.deploy.start", "dyno.spawn.end"),
    ("gunicorn boot until it answers HTTP", "dyno.spawn.end", "dyno.probe.end"),
    ("ready to switch (routes published)", "dyno.probe.end", "switch"),
    ("switch to the release's end", "switch", "release.end"),
    ("release end until `git push` returns", "release.end", "pushed"),
    ("`git push` returns until the new code answers", "pushed", "served"),
]
BESIDE = [("old dyno: retire delay, SIGTERM, exit (after the switch)", "switch", "old.stop.end")]


def events(path: Path, since: float) -> dict[str, float]:
    """The first time of each event after `since`."""
    found: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            e = json.loads(line)
            if e["t"] >= since and e["ev"] not in found:
                found[e["ev"]] = e["t"]
    return found


def one_round(server: HoistServer, repo: Path, probe_file: Path, i: int) -> dict[str, float]:
    name = repo.name
    commit_files(repo, {"app.py": (repo / "app.py").read_text().replace(f"{name}-{i - 1}", f"{name}-{i}")},
                 server.env(), f"round {i}")
    marks = {"push": time.time()}
    server.push(repo)
    marks["pushed"] = time.time()
    server.wait_for(name, f"{name}-{i}", timeout=120)
    marks["served"] = time.time()
    deadline = time.monotonic() + 15
    while "old.stop.end" not in events(probe_file, marks["push"]) and time.monotonic() < deadline:
        time.sleep(0.1)  # the old dyno's stop ends before the next round starts
    marks.update(events(probe_file, marks["push"]))
    if os.environ.get("PHASES_DEBUG"):
        print(sorted(marks.items(), key=lambda kv: kv[1]), file=sys.stderr)
    spans = {}
    for label, a, b in PATH + BESIDE:
        if a in marks and b in marks:
            spans[label] = marks[b] - marks[a]
    spans["total: push to the new code served"] = marks["served"] - marks["push"]
    return spans


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--baseline", help="the hoist of this git ref beside this one (e.g. main)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-phases-"))
    work.chmod(0o711)  # per-app users (hoist as root) must pass through to the home
    results: dict[str, list[dict[str, float]]] = {}
    servers: dict[str, tuple[HoistServer, Path, Path]] = {}
    with ExitStack() as stack:
        try:
            sources: list[tuple[str, Path]] = []
            if args.baseline:
                sources.append((f"before ({describe(args.baseline)})", stack.enter_context(worktree(args.baseline))))
            sources.append(("after (this hoist)" if args.baseline else "this hoist", ROOT / "src"))
            for n, (label, src) in enumerate(sources):
                tag = f"h{n}"
                probe_file = work / f"{tag}-phases.jsonl"
                server = HoistServer(home=work / tag / "home", user_home=work / tag / "user", extra_env={
                    "PYTHONPATH": f"{PROBE}{os.pathsep}{src}", "HOIST_BENCH_PHASES": str(probe_file)})
                server.start(timeout=120)
                server.cli("login")
                name = f"{tag}-phases"
                files = example_files("hello")
                files["app.py"] = files["app.py"].replace("from hoist", f"from hoist {name}-0")
                repo = make_repo(work / tag / name, files, server.env())
                server.cli("apps:create", name, cwd=repo)
                server.push(repo)
                server.wait_for(name, f"{name}-0", timeout=120)
                servers[label] = (server, repo, probe_file)
                results[label] = []
            for i in range(1, args.rounds + 1):
                for label, (server, repo, probe_file) in servers.items():
                    results[label].append(one_round(server, repo, probe_file, i))
        finally:
            for server, repo, _ in servers.values():
                if server.proc and server.proc.poll() is None:
                    server.stop()
                remove_app_users(repo.parent)
            shutil.rmtree(work, ignore_errors=True)
    labels = list(results)
    print(f"code-only redeploy by phase, Flask + gunicorn, {args.rounds} rounds, seconds "
          f"(containment {'on' if os.geteuid() == 0 else 'off: not root'}); means add up to the total's mean")
    for n, label in enumerate(labels):
        print(f"  [{n}] {label}")
    print(f"{'phase':52}" + "".join(f"{f'[{n}] median':>12}{f'[{n}] mean':>10}" for n in range(len(labels))))
    total = "total: push to the new code served"
    for title, rows in (("on the push's path", PATH), ("beside it", BESIDE), ("", [(total, "", "")])):
        if title:
            print(f"-- {title}")
        for row_label, _, _ in rows:
            print(f"{row_label[:52]:52}" + "".join(_stats(results[label], row_label) for label in labels))
    for n, label in enumerate(labels):
        print(f"[{n}] totals by round: " + " ".join(f"{r[total]:.2f}" for r in results[label]))


def _stats(rounds: list[dict[str, float]], key: str) -> str:
    values = [r[key] for r in rounds if key in r]
    if not values:
        return f"{'-':>12}{'-':>10}"
    return f"{statistics.median(values):12.3f}{statistics.fmean(values):10.3f}"


if __name__ == "__main__":
    main()
