"""Parsing swarm dynos' output as `docker service logs --follow --timestamps --no-trunc` (20.10) prints it, and
routing it per slot (ServiceLogs.feed: no docker needed): lines the real CLI printed, a replayed stream's
lines dropped once, the meter's markers turned into memory and never shown, OOM kills counted per dyno."""
from __future__ import annotations

import calendar
import os
import signal
import subprocess
import sys
import time

import pytest

from hoist.dynos.swarm.cluster import Cluster
from hoist.dynos.swarm.logs import Meters, Seen, nanos, parse, since_arg, split_meter
from hoist.dynos.swarm.logstream import ServiceLogs, dies_with_hoist
from hoist.dynos.swarm.meter import marker

# As the 20.10 CLI printed them on the local swarm (task ids untruncated with --no-trunc).
REAL = [
    "2026-12-02T21:30:46.357704029Z hlogy.2.jb9z0i4qdmplnxfktn8laured@hlog-n1    | line 1\n",
    "2026-12-02T21:30:33.022344305Z hlogx.1.xkwl2y17ymj59gwg0pe1mczf4@hlog-n2    | /bin/bash: line 1: x: not found\n",
    "2026-12-02T21:30:34.063711574Z hlogx.3.a82lzeio02te@hlog-n2    |  line 2 from \n",  # --details: one more space
]


def test_parse_real_lines() -> None:
    e = parse(REAL[0])
    assert e is not None
    assert (e.service, e.slot, e.task, e.node, e.text) == ("hlogy", 2, "jb9z0i4qdmplnxfktn8laured", "hlog-n1", "line 1")
    assert e.ts == calendar.timegm(time.strptime("2026-12-02T21:30:46", "%Y-%m-%dT%H:%M:%S")) * 10**9 + 357704029
    e2 = parse(REAL[1])
    assert e2 is not None and e2.slot == 1 and e2.node == "hlog-n2" and e2.text == "/bin/bash: line 1: x: not found"
    e3 = parse(REAL[2])
    assert e3 is not None and e3.slot == 3 and e3.text == " line 2 from "
    # the text keeps its own separators and leading spaces
    e4 = parse("2026-12-02T21:30:46.5Z hoist-a-web-1234abcd.12.t1@n | a | b  \n")
    assert e4 is not None and e4.slot == 12 and e4.text == "a | b  " and e4.ts % 10**9 == 500000000


@pytest.mark.parametrize("raw", ["", "error from daemon in stream: Error grabbing logs: rpc error",
                                 "no such task or service: hoist-x", "2026-12-02T21:30:46Z web | no slot"])
def test_cli_complaints_are_no_lines(raw: str) -> None:
    assert parse(raw) is None


def test_nanos_matches_calendar() -> None:
    for stamp in ("1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2026-12-31T12:00:00Z", "2100-03-01T00:00:01Z"):
        assert nanos(stamp) == calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) * 10**9, stamp


def test_since_arg_starts_before_the_last_line() -> None:
    ts = nanos("2026-12-02T21:30:46.357704029Z")
    secs, _, frac = since_arg(ts).partition(".")
    assert len(frac) == 9 and int(secs) * 10**9 + int(frac) == ts - 10 * 10**9


def test_split_meter() -> None:
    assert split_meter("hello") == ("hello", None)
    assert split_meter(marker(31457280, 0).rstrip("\n")) == (None, (31457280, 0))
    # a marker written after a partial line of the command: the command's text stays
    assert split_meter("partial" + marker(5, 1).rstrip("\n")) == ("partial", (5, 1))


def test_seen_drops_a_replay_per_task() -> None:
    seen = Seen()
    a1, a2, b1 = (parse(f"2026-12-02T21:30:4{s}.0Z svc.1.{t}@n | x") for s, t in ((1, "a"), (2, "a"), (1, "b")))
    assert a1 and a2 and b1
    assert seen.resume() is None
    assert [seen.fresh(e) for e in (a1, a2, b1)] == [True, True, True]
    assert [seen.fresh(e) for e in (a1, a2, b1)] == [False, False, False]  # the reopened stream's replay
    assert seen.resume() == a2.ts


def test_meters_count_kills_per_dyno() -> None:
    m = Meters()
    assert m.usage() is None  # nothing reported yet
    m.add("t1", 100, 0)
    assert m.usage() == (100, 0)
    m.add("t1", 150, 1)  # the kernel killed in task t1's container
    m.add("t1", 20, 1)  # ... and the task reports it again: still one
    m.add("t2", 30, 0)  # the replacement task starts at 0
    assert m.usage() == (30, 1)
    m.restart()  # a new dyno in the slot: its own count starts at 0
    assert m.usage() is None
    m.add("t2", 40, 0)
    assert m.usage() == (40, 0)
    m.add("t3", 10, 2)
    assert m.usage() == (10, 2)


def test_service_logs_route_slots_and_strip_markers() -> None:
    logs = ServiceLogs(Cluster(docker="/nonexistent/docker"), "hoist-shop-web-abcd1234")
    got: dict[str, list[str]] = {"web.1": [], "web.2": []}
    m1 = logs.attach(1, got["web.1"].append)
    m2 = logs.attach(2, got["web.2"].append)
    lines = [
        "2026-12-02T21:30:46.1Z hoist-shop-web-abcd1234.1.t1@n1    | GET / served by web.1\n",
        "2026-12-02T21:30:46.2Z hoist-shop-web-abcd1234.2.t2@n2    | GET / served by web.2\n",
        f"2026-12-02T21:30:46.3Z hoist-shop-web-abcd1234.2.t2@n2    | {marker(64 << 20, 0)}",
        "2026-12-02T21:30:46.4Z hoist-shop-web-abcd1234.3.t3@n2    | a slot nobody wants\n",
        "2026-12-02T21:30:46.5Z hoist-other-web-abcd1234.1.t9@n2    | another service's line\n",
        "error from daemon in stream: Error grabbing logs: node down\n",
    ]
    for raw in lines + lines[:3]:  # a reopened stream replays the first three
        logs.feed(raw)
    assert got == {"web.1": ["GET / served by web.1"], "web.2": ["GET / served by web.2"]}
    assert m1.usage() is None and m2.usage() == (64 << 20, 0)
    assert logs.errors == ["error from daemon in stream: Error grabbing logs: node down"]


def test_a_stream_dies_with_hoist() -> None:
    """A `docker service logs --follow` of a removed service never ends by itself: when hoist is killed
    outright, its streams must go too (setpriv --pdeathsig). A real process stands for the CLI here."""
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time\n"
                               f"p = subprocess.Popen({dies_with_hoist()!r} + ['sleep', '60'])\n"
                               "print(p.pid, flush=True)\ntime.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while open(f"/proc/{child}/comm").read().strip() != "sleep":  # setpriv has set it up and exec'd
        assert time.monotonic() < deadline
        time.sleep(0.02)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{child}") and "Z" not in open(f"/proc/{child}/stat").read().split(")")[1][:3]:
        assert time.monotonic() < deadline, "the stream outlived the process that started it"
        time.sleep(0.05)
