"""What cgroup hierarchies are mounted, and the pure reading of cgroup files.

`Layout.mode` is the choice the package's docstring explains: 'v2' (a v2 hierarchy with the memory,
pids and cpu controllers does everything), 'hybrid' (v2 tracks and kills, v1 controllers limit and
count), 'v1' (v1 only), or '' (no cgroups)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

LIMITED = ("memory", "pids", "cpu")  # the controllers hoist limits and counts a dyno with


@dataclass(frozen=True)
class Layout:
    """The cgroup hierarchies mounted on this machine."""

    v2: Path | None = None  # the cgroup2 mount
    v2_controllers: frozenset[str] = frozenset()  # controllers available at its root
    v1: dict[str, Path] = field(default_factory=dict)  # v1 controller -> its mount

    @property
    def mode(self) -> str:
        """'v2' (v2 limits and tracks), 'hybrid' (v2 tracks, v1 limits), 'v1', or '' (none)."""
        if self.v2 is not None and set(LIMITED) <= self.v2_controllers:
            return "v2"
        if self.v2 is not None:
            return "hybrid"
        return "v1" if "pids" in self.v1 else ""


def parse_mounts(text: str) -> tuple[Path | None, dict[str, Path]]:
    """(the cgroup2 mount, v1 controller -> mount) from the text of /proc/self/mounts. Pure."""
    v2: Path | None = None
    v1: dict[str, Path] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        where, kind, options = Path(parts[1].replace("\\040", " ")), parts[2], parts[3].split(",")
        if kind == "cgroup2" and v2 is None:
            v2 = where
        elif kind == "cgroup":
            for opt in options:
                if opt in ("memory", "pids", "cpu", "cpuacct", "freezer") and opt not in v1:
                    v1[opt] = where
    return v2, v1


def read_layout(mounts: str | None = None) -> Layout:
    """What is mounted here (reads /proc/self/mounts and the v2 root's cgroup.controllers)."""
    if mounts is None:
        try:
            mounts = Path("/proc/self/mounts").read_text()
        except OSError:
            return Layout()
    v2, v1 = parse_mounts(mounts)
    controllers: frozenset[str] = frozenset()
    if v2 is not None:
        try:
            controllers = frozenset((v2 / "cgroup.controllers").read_text().split())
        except OSError:
            v2 = None
    return Layout(v2, controllers, v1)


def tree_name(home: Path) -> str:
    """`hoist-<8 hex>`, from the server's home (the nftables table uses the same hash)."""
    return "hoist-" + hashlib.sha256(str(home).encode()).hexdigest()[:8]


def parse_keyed(text: str) -> dict[str, int]:
    """`key value` lines (memory.stat, memory.events, cgroup.events) as a dict. Pure."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def memory_in_use(stat: dict[str, int], v2: bool) -> int:
    """Bytes a cgroup's processes use (resident anonymous + mapped files + swap), from memory.stat. Pure.

    Page cache is left out: an app that writes files must not hit R14 for the kernel's cache."""
    if v2:
        return stat.get("anon", 0) + stat.get("file_mapped", 0) + stat.get("swap", 0)
    return stat.get("total_rss", 0) + stat.get("total_mapped_file", 0) + stat.get("total_swap", 0)
