"""Push-to-serving with CI on, through a real hoist server: how much a test run adds to a deploy.

A code-only redeploy of a Flask + gunicorn app (its dependencies already built), measured from `git push`
to the router answering with the new code, in four setups side by side:
  CI off;  CI on, a test that does nothing (`true`: the machinery's own cost);
  CI on, a test that takes ~3 s (`sleep 3`);  CI on, `true` with a throwaway Postgres (provisioned and
  dropped per run).
Each row shows the median with the test run included, and with it excluded (minus the run's own time,
as the push output reports it: "Test run #N succeeded in X.Xs"). Run: python bench/ci_deploy.py [--rounds N]
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import HoistServer, commit_files, example_files, make_repo  # noqa: E402

SETUPS: list[tuple[str, dict[str, object] | None]] = [
    ("CI off", None),
    ("CI on, test `true`", {"scripts": {"test": "true"}}),
    ("CI on, test `sleep 3`", {"scripts": {"test": "sleep 3"}}),
    ("CI on, `true` + throwaway Postgres", {"scripts": {"test": "true"}, "addons": ["heroku-postgresql"]}),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-ci-"))
    work.chmod(0o711)  # per-app users (hoist as root) must pass through to the home
    server = HoistServer(home=work / "home", user_home=work / "user")
    server.start()
    server.cli("login")
    included: dict[str, list[float]] = {label: [] for label, _ in SETUPS}
    excluded: dict[str, list[float]] = {label: [] for label, _ in SETUPS}
    try:
        for n, (label, test_env) in enumerate(SETUPS):
            app = f"bench-ci-{n}"
            files = example_files("hello")
            if test_env is not None:
                files["app.json"] = json.dumps({"environments": {"test": test_env}})
            repo = make_repo(work / app, files, server.env())
            server.cli("apps:create", app, cwd=repo)
            if test_env is not None:
                server.cli("ci:enable", "-a", app)
            server.push(repo)  # the first deploy builds the dependencies; the rounds are code-only
            for i in range(args.rounds):
                marker = f"{app}-round-{i}"
                commit_files(repo, {"app.py": (repo / "app.py").read_text().replace(
                    "from hoist", f"from hoist {marker}") if i == 0 else
                    (repo / "app.py").read_text().replace(f"{app}-round-{i - 1}", marker)}, server.env(), marker)
                started = time.monotonic()
                pushed = server.push(repo)
                server.wait_for(app, marker, timeout=180)
                total = time.monotonic() - started
                test = re.search(r"Test run #\d+ succeeded in (\d+\.\d)s", pushed.stderr)
                included[label].append(total)
                excluded[label].append(total - (float(test.group(1)) if test else 0.0))
        print(f"push-to-serving, code-only redeploy, median of {args.rounds} (s):")
        print(f"{'setup':40} {'tests included':>15} {'tests excluded':>15}")
        for label, _ in SETUPS:
            print(f"{label:40} {statistics.median(included[label]):15.2f} {statistics.median(excluded[label]):15.2f}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
