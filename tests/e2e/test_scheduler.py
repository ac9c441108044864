"""Heroku Scheduler end to end: jobs run on time as scheduler.N one-off dynos with their logs, a run that
overruns is stopped, a restart of hoist neither skips nor doubles a due run; and bad input is refused.

The server's tick (HOIST_SCHEDULER_TICK) makes `--every 10m` mean every TICK seconds."""
from __future__ import annotations

import math
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.harness import HoistServer, example_files, make_repo

TICK = 5.0
APP = "cron"
PROBE = "python -c \"import time; print('tick', time.time())\""
_LINE = re.compile(r"^(\S+) (app|heroku)\[(scheduler\.\d+)\]: (.*)$")  # heroku[...]: the platform's lines


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[HoistServer]:
    srv = HoistServer(home=workdir / "home", user_home=workdir / "user",
                      extra_env={"HOIST_SCHEDULER_TICK": str(TICK), "HOIST_STOP_GRACE": "3"})
    srv.start()
    srv.cli("login")
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.stop()


def boundary_after(t: float) -> float:
    return (math.floor(t / TICK) + 1) * TICK


def runs(server: HoistServer) -> dict[str, dict[str, object]]:
    """Each scheduler dyno: when its first line was logged (its start), its output, hoist's lines about it."""
    out: dict[str, dict[str, object]] = {}
    for line in server.cli("logs", "-n", "1500", "-d", "scheduler", "-a", APP).stdout.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        stamp, source, dyno, message = m.groups()
        run = out.setdefault(dyno, {"start": datetime.fromisoformat(stamp).timestamp(), "app": [], "heroku": []})
        run[source].append(message)  # type: ignore[attr-defined]
    return out


def probe_runs(server: HoistServer) -> list[tuple[float, str, float]]:
    """(start, dyno, time the probe printed) of each run of the probe job, in order."""
    found = []
    for dyno, run in runs(server).items():
        for message in run["app"]:  # type: ignore[attr-defined]
            if message.startswith("tick "):
                found.append((float(run["start"]), dyno, float(message.split()[1])))  # type: ignore[arg-type]
    return sorted(found)


def wait_runs(server: HoistServer, count: int, after: float = 0.0, timeout: float = 60.0) -> list[tuple[float, str, float]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [r for r in probe_runs(server) if r[0] > after]
        if len(got) >= count:
            return got
        time.sleep(0.3)
    raise AssertionError(server.cli("logs", "-n", "80", "-a", APP).stdout)


def add_job(server: HoistServer, *command: str) -> str:
    out = server.cli("scheduler:add", *command, "--every", "10m", "-a", APP).stdout
    m = re.search(r"Added job ([0-9a-f]+)", out)
    assert m, out
    return m.group(1)


def test_bad_input_is_refused_with_what_to_do(server: HoistServer, workdir: Path) -> None:
    repo = make_repo(workdir / "cron", example_files("hello"), server.env())
    server.cli("apps:create", APP, cwd=repo)
    no_addon = server.cli("scheduler:add", "python task.py", "--every", "1h", "-a", APP, check=False)
    assert no_addon.returncode == 1 and f"hoist addons:create scheduler -a {APP}" in no_addon.stderr
    out = server.cli("addons:create", "scheduler", "-a", APP).stdout
    assert re.search(r"Created scheduler-[a-z]+-\d{5}\n", out) and "scheduler:add" in out, out
    assert len(server.api("GET", f"/apps/{APP}/releases").json()) == 1  # v1 only: no config var, no release
    again = server.cli("addons:create", "scheduler:standard", "-a", APP, check=False)
    assert again.returncode == 1 and "already has scheduler" in again.stderr
    no_release = server.cli("scheduler:add", "python task.py", "--every", "1h", "-a", APP, check=False)
    assert no_release.returncode == 1 and "no release yet" in no_release.stderr and "git push" in no_release.stderr

    server.push(repo)
    empty = server.cli("scheduler:add", "", "--every", "10m", "-a", APP, check=False)
    assert empty.returncode == 1 and "the command is empty" in empty.stderr
    unknown = server.cli("scheduler:add", "python", "task.py", "--every", "5m", "-a", APP, check=False)
    assert unknown.returncode == 1 and "unknown interval '5m'" in unknown.stderr and "10m, 1h or 1d" in unknown.stderr
    bad_at = server.api("POST", f"/apps/{APP}/scheduler/jobs", json={"command": "x", "every": "1d", "at": "25:00"})
    assert bad_at.status_code == 422 and bad_at.json()["id"] == "invalid_params" and "02:00" in bad_at.json()["message"]
    assert server.api("POST", f"/apps/{APP}/scheduler/jobs", json={"command": 3}).status_code == 422
    gone = server.cli("scheduler:remove", "nosuchjob", "-a", APP, check=False)
    assert gone.returncode == 1 and "hoist scheduler" in gone.stderr
    assert "No jobs" in server.cli("scheduler", "-a", APP).stdout


def test_a_job_runs_on_time_twice_as_scheduler_dynos_with_its_logs(server: HoistServer) -> None:
    daily = server.cli("scheduler:add", "python", "report.py", "--every", "1d", "--at", "02:00", "-a", APP).stdout
    assert "every day at 02:00 UTC" in daily and "T02:00:00Z" in daily
    job = add_job(server, PROBE)
    first, second = wait_runs(server, 2)[:2]
    assert first[1] != second[1] and re.fullmatch(r"scheduler\.\d{4}", first[1])
    for start, dyno, printed in (first, second):
        delay = start - math.floor(start / TICK) * TICK
        assert delay < 2.0, (dyno, delay)  # started within 2 s of the due time (a busy 2-core box)
        assert printed >= start - 0.05
        hoist = runs(server)[dyno]["heroku"]
        assert "State changed from starting to up" in hoist and "Process exited with status 0" in hoist, hoist
    assert second[0] >= boundary_after(first[0]) - 0.05  # one run per due time
    listed = server.cli("scheduler", "-a", APP).stdout
    assert job in listed and "every 10 minutes" in listed and "exit 0" in listed and "scheduler." in listed
    api_job = next(j for j in server.api("GET", f"/apps/{APP}/scheduler/jobs").json() if j["id"] == job)
    assert api_job["every"] == "10m" and api_job["last_status"] in ("0", "starting")
    assert server.api("GET", f"/apps/{APP}/scheduler/jobs/{job}").json()["command"] == PROBE


def test_a_run_still_going_when_the_next_is_due_is_stopped(server: HoistServer) -> None:
    added = time.time()
    job = add_job(server, "sleep", "60")

    def sleepers() -> list[tuple[float, str, list[str]]]:  # the sleep job's runs: no probe output
        return sorted((float(r["start"]), d, r["heroku"]) for d, r in runs(server).items()  # type: ignore[arg-type,misc]
                      if float(r["start"]) > added and not r["app"])  # type: ignore[arg-type]
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and len(sleepers()) < 2:
        time.sleep(0.5)
    first, following = sleepers()[:2]
    assert any("ran past its time limit" in m for m in first[2]), first
    assert "Stopping process with SIGTERM" in first[2] and "Process exited with status 143" in first[2], first
    assert abs(following[0] - boundary_after(first[0])) < 2.0  # the next run started when it was due
    server.cli("scheduler:remove", job, "-a", APP)
    assert job not in server.cli("scheduler", "-a", APP).stdout


def test_a_restart_of_hoist_neither_skips_nor_doubles_a_due_run(server: HoistServer) -> None:
    # A quick restart between two due times: the next one runs once (on time, or at start if it came first).
    last = wait_runs(server, 1, after=time.time() - 0.5)[-1]
    due = boundary_after(last[0])
    stopped_at = time.time()
    assert server.stop() == 0
    server.start()
    ready_at = time.time()
    first, second = wait_runs(server, 2, after=stopped_at)[:2]
    if ready_at < due - 0.5:
        assert due - 0.05 <= first[0] < due + 2.0, (first, due, ready_at)  # not skipped: on time
    else:
        assert first[0] < ready_at + 3.0, (first, ready_at)  # it came due during the restart: run at start
    assert second[0] >= boundary_after(first[0]) - 0.05, (first, second)  # not doubled

    # Down through several due times: one run when hoist is back, then the schedule goes on.
    stopped_at = time.time()
    assert server.stop() == 0
    time.sleep(2.5 * TICK)
    starting_at = time.time()
    server.start()
    ready_at = time.time()
    catch_up, following = wait_runs(server, 2, after=stopped_at)[:2]
    assert catch_up[0] > starting_at  # nothing ran while hoist was down
    assert catch_up[0] < ready_at + 3.0, (catch_up, ready_at)
    assert following[0] >= boundary_after(catch_up[0]) - 0.05, (catch_up, following)
    assert following[0] - math.floor(following[0] / TICK) * TICK < 2.0  # back on the schedule
