"""hoist's cgroup tree for one home, and a cgroup per unit (a dyno, the router, the TLS front).

`Tree` is the home's tree in each hierarchy it uses, chosen from what is mounted (layout.py; the
package's docstring says why);
`Unit` is one cgroup in all of them: created with its limits before anything runs in it, joined
by writing a pid to each `cgroup.procs` (the launcher does, as root, before it drops privileges),
signalled, killed and measured as a whole, and removed once empty."""
from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hoist.contain.layout import LIMITED, Layout, memory_in_use, parse_keyed, read_layout, tree_name

ROOT = Path("/sys/fs/cgroup")
PAGE = os.sysconf("SC_PAGE_SIZE")
KILL_ROUNDS = 50


class CgroupError(Exception):
    """A cgroup could not be made or changed; the message says what to do."""


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise CgroupError(f"cannot write {value.strip()!r} to {path}: {exc.strerror}") from None


@dataclass(frozen=True)
class Limits:
    """What one unit may use; None: not limited."""

    memory_bytes: int | None = None  # the hard limit: the kernel kills in the unit above it
    pids: int | None = None
    cpu_weight: int | None = None  # v2's scale (1..10000, 100 = the default share)


class Unit:
    """One cgroup, in every hierarchy of the tree."""

    def __init__(self, tree: Tree, rel: str) -> None:
        self.tree = tree
        self.rel = rel

    def __repr__(self) -> str:
        return f"Unit({self.rel!r})"

    @property
    def track(self) -> Path:
        """The cgroup whose cgroup.procs lists the unit's processes."""
        return self.tree.track_root / self.rel

    def dirs(self) -> list[Path]:
        return [root / self.rel for root in self.tree.roots()]

    def join_files(self) -> list[str]:
        """The cgroup.procs files a process writes its pid to, to join the unit."""
        return [str(d / "cgroup.procs") for d in self.dirs()]

    def exists(self) -> bool:
        return self.track.is_dir()

    def create(self, limits: Limits | None = None) -> None:
        """Make the cgroup in every hierarchy (parents too) and set its limits; raises CgroupError."""
        try:
            for d in self.dirs():
                d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CgroupError(f"cannot create the cgroup {self.rel} of {self.tree.name}: {exc.strerror}; "
                              "hoist needs root and a writable /sys/fs/cgroup") from None
        if limits is not None:
            self.tree.limit(self.rel, limits)

    def pids(self) -> list[int]:
        return [int(p) for p in _read(self.track / "cgroup.procs").split()]

    def populated(self) -> bool:
        events = self.track / "cgroup.events"
        if self.tree.v2_track:
            return parse_keyed(_read(events)).get("populated", 0) == 1
        return bool(self.pids())

    def signal(self, signum: int) -> None:
        """Send `signum` to every process in the unit."""
        if signum == signal.SIGKILL:
            self.kill()
            return
        for pid in self.pids():
            try:
                os.kill(pid, signum)
            except (ProcessLookupError, PermissionError):
                pass

    def kill(self) -> None:
        """SIGKILL every process in the unit at once (cgroup.kill, or freeze + kill each + thaw); nothing to do
        once the unit is gone."""
        if not self.exists():
            return
        kill_file = self.track / "cgroup.kill"
        if self.tree.v2_track and kill_file.exists():
            try:
                kill_file.write_text("1")
                return
            except OSError:
                pass
        freezer = self.tree.freezer(self.rel)
        if freezer is not None:
            _write(freezer, "FROZEN" if freezer.name == "freezer.state" else "1")
        try:
            for _ in range(KILL_ROUNDS):  # a fork in flight can add a member: go until none is left
                members = self.pids()
                if not members:
                    break
                for pid in members:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                time.sleep(0.002)
        finally:
            if freezer is not None:
                _write(freezer, "THAWED" if freezer.name == "freezer.state" else "0")

    def memory(self) -> int:
        """Bytes in use by the whole unit (see memory_in_use); without a memory controller, the sum
        of its processes' resident sets."""
        stat = self.tree.memory_stat(self.rel)
        if stat is not None:
            return memory_in_use(stat, self.tree.mode == "v2")
        total = 0
        for pid in self.pids():
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            except (OSError, IndexError, ValueError):
                continue
        return total

    def oom_kills(self) -> int:
        """How many processes the kernel killed in the unit for reaching its memory limit."""
        return self.tree.oom_kills(self.rel)

    def remove(self) -> bool:
        """Remove the (empty) cgroup everywhere; False if something still runs in it."""
        done = True
        for d in self.dirs():
            try:
                d.rmdir()
            except FileNotFoundError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY):
                    raise CgroupError(f"cannot remove the cgroup {d}: {exc.strerror}") from None
                done = False
        return done

    def wait_empty(self, timeout: float) -> bool:
        """Block until nothing runs in the unit (True) or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        while self.populated():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


class Tree:
    """The home's tree: `name` under the tracking hierarchy and under each limiting one."""

    def __init__(self, layout: Layout, name: str) -> None:
        self.layout = layout
        self.name = name
        self.mode = layout.mode
        if not self.mode:
            raise CgroupError("no cgroup hierarchy is mounted (mount cgroup2 on /sys/fs/cgroup)")
        self.v2_track = layout.v2 is not None
        base = layout.v2 if layout.v2 is not None else layout.v1["pids"]
        self.track_root = base / name
        self.v1_roots = {} if self.mode == "v2" else {c: layout.v1[c] / name for c in LIMITED if c in layout.v1}
        if self.mode == "v1":
            self.v1_roots.pop("pids", None)  # the tracking hierarchy already
            if "freezer" in layout.v1:  # members must be in it to be frozen while they are killed
                self.v1_roots["freezer"] = layout.v1["freezer"] / name

    def roots(self) -> list[Path]:
        return [self.track_root, *self.v1_roots.values()]

    def unit(self, *parts: str) -> Unit:
        return Unit(self, "/".join(parts))

    def units(self, *parts: str) -> Iterator[Unit]:
        """The cgroups directly below `parts` (a restarted hoist finds its dynos this way)."""
        base = self.track_root.joinpath(*parts)
        try:
            names = sorted(e.name for e in os.scandir(base) if e.is_dir())
        except OSError:
            return
        for n in names:
            yield self.unit(*parts, n)

    def nft_path(self, *parts: str) -> tuple[str, int] | None:
        """(path relative to /sys/fs/cgroup, depth below the v2 root) of a v2 cgroup, as nftables'
        `socket cgroupv2 level N "PATH"` names it; None without a v2 hierarchy."""
        if self.layout.v2 is None:
            return None
        full = self.track_root.joinpath(*parts)
        try:
            rel = full.relative_to(ROOT)
        except ValueError:
            return None
        return str(rel), len(full.relative_to(self.layout.v2).parts)

    def start(self) -> None:
        """Create the tree's root and its shims' cgroup (and, on a pure v2 host, hand the controllers down);
        raises CgroupError."""
        self.unit("").create()
        self.unit("shims").create()
        if self.mode == "v2":
            assert self.layout.v2 is not None
            self._delegate(self.layout.v2)
            self._delegate(self.track_root)

    def _delegate(self, where: Path) -> None:
        _write(where / "cgroup.subtree_control", " ".join(f"+{c}" for c in LIMITED))

    def limit(self, rel: str, limits: Limits) -> None:
        """Set a unit's limits in whichever hierarchy holds each controller."""
        if self.mode == "v2":
            parent = self.track_root
            for part in rel.split("/")[:-1]:  # every level down to the unit hands the controllers on
                parent = parent / part
                self._delegate(parent)
            d = self.track_root / rel
            if limits.memory_bytes:
                _write(d / "memory.max", str(limits.memory_bytes))
                _write(d / "memory.oom.group", "1")  # the kernel's kill takes the whole dyno, as R15 does
            if limits.pids:
                _write(d / "pids.max", str(limits.pids))
            if limits.cpu_weight:
                _write(d / "cpu.weight", str(limits.cpu_weight))
            return
        memory, pids, cpu = (self.v1_roots.get(c) for c in LIMITED)
        if limits.memory_bytes and memory is not None:
            _write(memory / rel / "memory.limit_in_bytes", str(limits.memory_bytes))
        pids_dir = pids / rel if pids is not None else self.track_root / rel if self.mode == "v1" else None
        if limits.pids and pids_dir is not None:
            _write(pids_dir / "pids.max", str(limits.pids))
        if limits.cpu_weight and cpu is not None:
            _write(cpu / rel / "cpu.shares", str(max(2, limits.cpu_weight * 1024 // 100)))

    def memory_stat(self, rel: str) -> dict[str, int] | None:
        if self.mode == "v2":
            stat = parse_keyed(_read(self.track_root / rel / "memory.stat"))
            swap = _read(self.track_root / rel / "memory.swap.current").strip()
            if swap.isdigit():
                stat["swap"] = int(swap)
            return stat or None
        memory = self.v1_roots.get("memory")
        if memory is None:
            return None
        return parse_keyed(_read(memory / rel / "memory.stat")) or None

    def oom_kills(self, rel: str) -> int:
        if self.mode == "v2":
            return parse_keyed(_read(self.track_root / rel / "memory.events")).get("oom_kill", 0)
        memory = self.v1_roots.get("memory")
        if memory is None:
            return 0
        return parse_keyed(_read(memory / rel / "memory.oom_control")).get("oom_kill", 0)

    def freezer(self, rel: str) -> Path | None:
        if self.v2_track:
            return self.track_root / rel / "cgroup.freeze"
        freezer = self.v1_roots.get("freezer")
        return freezer / rel / "freezer.state" if freezer is not None else None

    def remove_all(self, *parts: str) -> None:
        """Remove an empty subtree (an app's cgroups once it is destroyed; the tree at a clean stop)."""
        for root in self.roots():
            base = root.joinpath(*parts)
            for dirpath, _dirs, _files in sorted(os.walk(base), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass


def open_tree(home: Path, layout: Layout | None = None) -> tuple[Tree | None, str]:
    """The home's tree, started, or None and why not (said by `hoist server` at start)."""
    if os.geteuid() != 0:
        return None, "hoist does not run as root"
    layout = layout if layout is not None else read_layout()
    if not layout.mode:
        return None, "no cgroup hierarchy is mounted at /sys/fs/cgroup"
    try:
        tree = Tree(layout, tree_name(home))
        tree.start()
    except CgroupError as exc:
        return None, str(exc)
    return tree, ""


def describe(tree: Tree) -> str:
    """How the tree tracks and limits, for the startup line."""
    if tree.mode == "v2":
        return f"cgroup v2 ({tree.track_root}): memory, pids and cpu limited and counted per dyno"
    limited = ", ".join(c for c in LIMITED if c in tree.v1_roots or (c == "pids" and tree.mode == "v1")) or "nothing"
    track = f"cgroup v2 ({tree.track_root})" if tree.v2_track else f"cgroup v1 pids ({tree.track_root})"
    return f"{track} tracks and kills each dyno; cgroup v1 limits and counts {limited}"

