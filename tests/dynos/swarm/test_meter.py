"""The swarm dyno's entrypoint (meter.py), run for real as a container runs it (`python -I -c SOURCE`):
the command's status is its own (a signal's as 128 + N), SIGTERM reaches the command, and marker lines
report this cgroup's memory; and the cgroup files it reads, v1 and v2 (files laid out as the kernel does)."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from hoist.dynos.swarm import meter
from hoist.dynos.swarm.logs import split_meter

SOURCE = Path(meter.__file__).read_text()


def run(interval: str, script: str, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-I", "-c", SOURCE, interval, "/bin/bash", "-c", script],
                            stdout=subprocess.PIPE, text=True, **kw)  # type: ignore[call-overload]


def test_status_and_markers() -> None:
    proc = run("0.2", "echo one; sleep 0.7; echo two; exit 3")
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 3
    texts = [split_meter(line) for line in out.split("\n")[:-1]]
    assert [t for t, _ in texts if t is not None] == ["one", "two"]
    samples = [s for _, s in texts if s is not None]
    assert len(samples) >= 2, out  # every 0.2 s while it ran, and once at its end
    if Path(meter.V1, "memory.stat").exists() or Path(meter.V2, "memory.stat").exists():
        assert all(used > 0 and oom >= 0 for used, oom in samples), samples


def test_signals_reach_the_command_and_a_kill_is_128_plus_n() -> None:
    proc = run("5", "trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 0.1; done")
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 7 and "got TERM" in out
    proc = run("5", "kill -KILL $$")
    proc.communicate(timeout=20)
    assert proc.returncode == 128 + 9


def test_reads_v1_and_v2_cgroups(tmp_path: Path) -> None:
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    assert meter.sample(str(v1), str(v2)) is None
    (v2 / "memory.stat").write_text("anon 1000\nfile 99999\nfile_mapped 20\n")
    (v2 / "memory.swap.current").write_text("3\n")
    (v2 / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n")
    assert meter.sample(str(v1), str(v2)) == (1023, 2)
    (v1 / "memory.stat").write_text("cache 99999\nrss 5\ntotal_cache 99999\ntotal_rss 700\ntotal_mapped_file 30\n"
                                    "total_swap 0\n")
    (v1 / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    assert meter.sample(str(v1), str(v2)) == (730, 1)  # v1 first: what Docker 20.10 uses here


def test_markers_never_tear_the_command_lines() -> None:
    proc = run("0.05", "for i in $(seq 200); do echo $i; done")
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert [t for t, _ in map(split_meter, out.split("\n")[:-1]) if t is not None] == [str(i) for i in range(1, 201)]
