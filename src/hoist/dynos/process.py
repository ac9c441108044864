"""A dyno's process on this machine, and its record.

Every dyno is recorded in `RUN_DIR/ID.json` before anything of it exists (then its cgroup, then its
process), so a hoist that starts after a `kill -9` of the previous one finds it: it adopts the dynos it
wants (their shims still run: see hoist.contain) and stops the rest. The record's format is written and
read only here. `GroupProcess` is an attached one-off dyno (hoist's own child, with raw descriptors for
a client): its leftovers die with it, as a shim's do."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from hoist.contain.cgroups import CgroupError, Unit
from hoist.procs import killpg

LINGER = 5.0  # seconds what a dead dyno left behind gets before it is killed


@dataclass(frozen=True)
class DynoRecord:
    id: str
    app: str
    name: str
    release: str = ""  # the release's id ("" for a one-off of no particular release)
    port: int | None = None
    rundir: str = ""  # its XDG_RUNTIME_DIR, removed with it
    unit: str = ""  # its cgroup, relative to hoist's tree ("" when not contained)
    pid: int = 0  # its main process, once it runs
    since: str = ""  # when it started (ISO 8601): an adopted dyno keeps its uptime

    def path(self, run_dir: Path) -> Path:
        return run_dir / f"{self.id}.json"

    def socket(self, run_dir: Path) -> Path:
        return run_dir / f"{self.id}.sock"


def write_record(run_dir: Path, rec: DynoRecord) -> None:
    """Write (or rewrite) a dyno's record so a reader sees the old one or the new one, never half."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{rec.id}.tmp"
    tmp.write_text(json.dumps(asdict(rec)))
    os.replace(tmp, rec.path(run_dir))


def read_records(run_dir: Path) -> list[DynoRecord]:
    """Every dyno recorded in `run_dir` (unreadable records are removed)."""
    found: list[DynoRecord] = []
    for path in sorted(run_dir.glob("*.json")):
        try:
            found.append(DynoRecord(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            path.unlink(missing_ok=True)
    for stale in run_dir.glob("*.pid"):  # a hoist from before records: its pid files name process groups
        with contextlib.suppress(OSError, ValueError):
            pid = int(stale.read_text().split()[0])
            found.append(DynoRecord(stale.stem, "", stale.stem, pid=pid))
        stale.unlink(missing_ok=True)
    return found


def with_pid(rec: DynoRecord, pid: int) -> DynoRecord:
    return replace(rec, pid=pid)


def forget(run_dir: Path, rec: DynoRecord) -> None:
    """The dyno is gone: its record, its shim's socket and its runtime directory go too."""
    rec.path(run_dir).unlink(missing_ok=True)
    rec.socket(run_dir).unlink(missing_ok=True)
    if rec.rundir:
        shutil.rmtree(rec.rundir, ignore_errors=True)


def peek_pid(sock: Path, timeout: float = 1.0) -> int:
    """The pid a dyno's shim names first thing when hoist connects (0 if none answers)."""
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(timeout)
            conn.connect(str(sock))
            line = conn.makefile("rb").readline()
    except OSError:
        return 0
    return int(line[1:]) if line[:1] == b"P" and line[1:].strip().isdigit() else 0


def runtime_dir(uid: int | None, gid: int | None) -> Path:
    """A fresh private XDG_RUNTIME_DIR for one dyno process (0700, the dyno's user's).

    gunicorn 25.1+ opens a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl, else at
    $HOME/.gunicorn/gunicorn.ctl; a dyno's HOME is its slug, HOIST_HOME/apps/APP/slugs/UUID, which
    can pass the 107 bytes a Unix socket path may have ("Control server error: AF_UNIX path too
    long" at every boot), and the web dynos of one slug would take each other's socket. A short
    directory per dyno process fixes both."""
    path = Path(tempfile.mkdtemp(prefix="hoist-dyno-", dir="/tmp" if os.path.isdir("/tmp") else None))
    if uid is not None:
        os.chown(path, uid, gid if gid is not None else -1)
    return path


def kill_unit(unit: Unit | None, pid: int) -> None:
    """SIGKILL everything of a dyno: its cgroup, else its process group."""
    if unit is not None:
        with contextlib.suppress(CgroupError):
            unit.kill()
    elif pid:
        killpg(pid, signal.SIGKILL)


class GroupProcess:
    """A dyno process that is hoist's own child; `signal` reaches all of it (its cgroup, else its process
    group, daemons it forked included); once it has exited, what it left behind gets LINGER seconds."""

    def __init__(self, proc: asyncio.subprocess.Process, run_dir: Path, rec: DynoRecord,
                 unit: Unit | None = None) -> None:
        self._proc = proc
        self._run_dir = run_dir
        self._rec = rec
        self.unit = unit
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reaper: asyncio.Future[None] | None = None

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    async def wait(self) -> int:
        rc = await self._proc.wait()
        await self._drain()
        if self._reaper is None:
            self._reaper = asyncio.ensure_future(self._reap())
        return rc

    async def closed(self) -> None:
        await self.wait()
        await asyncio.shield(self.finished)

    async def _reap(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINGER
        try:
            while self.unit is not None and self.unit.populated() and loop.time() < deadline:
                await asyncio.sleep(0.05)
            kill_unit(self.unit, self.pid)
            if self.unit is not None and await asyncio.to_thread(self.unit.wait_empty, 5.0):
                with contextlib.suppress(CgroupError):
                    self.unit.remove()
            forget(self._run_dir, self._rec)
        finally:
            if not self.finished.done():
                self.finished.set_result(None)

    async def _drain(self) -> None:
        """After the exit: whatever must finish before the process counts as gone (its output)."""

    def signal(self, signum: int) -> None:
        if self.unit is not None:
            with contextlib.suppress(CgroupError):
                self.unit.signal(signum)
            return
        killpg(self._proc.pid, signum)

    def usage(self) -> tuple[int, int] | None:
        return (self.unit.memory(), self.unit.oom_kills()) if self.unit is not None else None
