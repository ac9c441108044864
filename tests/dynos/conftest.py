"""A real Supervisor over the real LocalScheduler, running tiny bash/python dynos."""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import pytest

from hoist.dynos.local import LocalScheduler
from hoist.contracts.release import RunRelease
from hoist.dynos.supervisor import Supervisor
from hoist.logs.store import LogStore

PY = "/usr/bin/python3"
# A web dyno: answers every GET with its DYNO name.
WEB = (f"exec {PY} -c \"import http.server as h, os\n"
       "class H(h.BaseHTTPRequestHandler):\n"
       "    def do_GET(self):\n"
       "        b = os.environ['DYNO'].encode(); self.send_response(200)\n"
       "        self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)\n"
       "    def log_message(self, *a): pass\n"
       "h.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\"")


@dataclass
class Rig:
    root: Path
    sup: Supervisor
    logs: LogStore
    routes: list[dict[str, Any]] = field(default_factory=list)
    _n: int = 0

    def release(self, types: dict[str, str], config: dict[str, str] | None = None) -> RunRelease:
        self._n += 1
        slug = self.root / f"slug{self._n}"
        slug.mkdir(exist_ok=True)
        return RunRelease(id=f"r{self._n}", version=self._n, process_types=types, slug_dir=slug,
                          env_dir=None, config=config or {})

    def lines(self, app: str = "app") -> list[str]:
        return [f"{l.source}[{l.dyno}]: {l.message}" for l in self.logs.recent(app, 100_000)]

    def text(self, app: str = "app") -> str:
        return "\n".join(self.lines(app))

    def dyno(self, name: str, app: str = "app") -> Any:
        return self.sup.apps[app].dynos.get(name)

    async def until(self, cond: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or cond}; log:\n" + self.text()[-3000:])
            await asyncio.sleep(0.02)


def group_pids(pgid: int) -> list[int]:
    """Live processes in a process group (zombies excluded)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry))
    return out


@pytest.fixture
def rig_root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hoist-dynos-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def run_rig(rig_root: Path) -> Callable[..., None]:
    """run_rig(body, **supervisor_kwargs): run `await body(rig)` with the supervisor loop going."""
    def runner(body: Callable[[Rig], Awaitable[None]], **kw: Any) -> None:
        async def main() -> None:
            logs = LogStore(lambda app: rig_root / "logs" / app, keep=kw.pop("keep", 5000))
            rig: Rig
            sup = Supervisor(LocalScheduler(rig_root / "run"), logs,
                             lambda backends: rig.routes.append(dict(backends)), **kw)
            rig = Rig(rig_root, sup, logs)
            loop = asyncio.create_task(sup.run())
            try:
                await body(rig)
            finally:
                await sup.shutdown()
                await asyncio.wait_for(loop, 10)
                await sup.scheduler.close()  # what the server does at a full stop (the shims' zygote goes too)
                logs.close()
        asyncio.run(main())
    return runner
