"""What is mounted, and reading cgroup files: pure."""
from __future__ import annotations

from pathlib import Path

from hoist.contain.kept import fingerprint
from hoist.contain.layout import Layout, memory_in_use, parse_keyed, parse_mounts, tree_name

HYBRID = """cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
proc /proc proc rw 0 0
"""


def test_the_mode_follows_what_is_mounted() -> None:
    v2, v1 = parse_mounts(HYBRID)
    assert v2 == Path("/sys/fs/cgroup/unified")
    assert v1 == {c: Path(f"/sys/fs/cgroup/{c}") for c in ("cpu", "memory", "pids", "freezer")}
    assert Layout(v2, frozenset(), v1).mode == "hybrid"  # v2 tracks and kills, v1 limits
    assert Layout(Path("/sys/fs/cgroup"), frozenset({"memory", "pids", "cpu", "io"})).mode == "v2"
    assert Layout(None, frozenset(), v1).mode == "v1"
    assert Layout().mode == ""
    assert parse_mounts("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n") == (Path("/sys/fs/cgroup"), {})


def test_tree_names_are_per_home_like_the_firewall_table() -> None:
    a, b = tree_name(Path("/var/lib/hoist")), tree_name(Path("/tmp/x"))
    assert a != b and a.startswith("hoist-") and len(a) == len("hoist-") + 8


def test_memory_counts_resident_memory_and_swap_not_page_cache() -> None:
    v1 = parse_keyed("cache 900000000\nrss 10\ntotal_cache 900000000\ntotal_rss 3000\ntotal_mapped_file 200\n"
                     "total_swap 5\nbad line\n")
    assert memory_in_use(v1, v2=False) == 3205
    v2 = parse_keyed("anon 4000\nfile 800000000\nfile_mapped 100\n")
    assert memory_in_use({**v2, "swap": 7}, v2=True) == 4107
    assert parse_keyed("populated 1\nfrozen 0\n") == {"populated": 1, "frozen": 0}


def test_a_kept_unit_is_adopted_only_when_started_with_the_same_command_and_secret() -> None:
    same = fingerprint(["python", "-m", "hoist.router", "--listen", "127.0.0.1:5000"], {"S": "x"})
    assert same == fingerprint(["python", "-m", "hoist.router", "--listen", "127.0.0.1:5000"], {"S": "x"})
    assert same != fingerprint(["python", "-m", "hoist.router", "--listen", "127.0.0.1:5001"], {"S": "x"})
    assert same != fingerprint(["python", "-m", "hoist.router", "--listen", "127.0.0.1:5000"], {"S": "y"})
    assert "x" not in same
