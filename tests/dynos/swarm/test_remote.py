"""A swarm one-off's two ends without a swarm: the task's entrypoint (dialback.py, a real process running bash)
dials a real dial-back listener (Rendezvous with TLS from a real CA) and RemoteOneOff bridges it: output, stdin
and its end, exit status, a pty, signals, a wrong secret. The frames and task-list parsing are pure."""
from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from hoist.dynos.rendezvous import Rendezvous
from hoist.dynos.swarm import dialback
from hoist.dynos.swarm.frames import HEAD, Decoder, FrameError, encode, exit_status
from hoist.dynos.swarm.remote import RemoteOneOff
from hoist.dynos.swarm.runs import parse_task_line, runs_on_swarm
from hoist.dynos.scheduler import DynoSpec
from hoist.tls.ca import LocalCA


def test_frames_survive_any_chunking() -> None:
    data = encode(b"O", b"hello") + encode(b"E") + encode(b"X", b"-15")
    for size in (1, 2, 5, len(data)):
        dec = Decoder()
        got = [f for i in range(0, len(data), size) for f in dec.feed(data[i:i + size])]
        assert got == [(b"O", b"hello"), (b"E", b""), (b"X", b"-15")]
    assert exit_status(b"-15") == -15 and exit_status(b"3") == 3 and exit_status(b"x") is None
    with pytest.raises(FrameError):
        Decoder().feed(b"Z\x00\x00\x00\x01a")
    assert dialback.HEAD.format == HEAD.format  # the task's own copy of the format (it runs alone) is the same


def test_task_lines_and_kinds() -> None:
    assert parse_task_line("node-2\tRunning 3 seconds ago\t") == ("node-2", "running", "")
    assert parse_task_line("\tRejected 1 second ago\tNo such image: x") == ("", "rejected", "No such image: x")
    spec = DynoSpec("a", "run.1234", "x", Path("/"), {})
    assert runs_on_swarm(spec) and runs_on_swarm(DynoSpec("a", "release.1", "x", Path("/"), {}))
    assert not runs_on_swarm(DynoSpec("a", "test.1", "x", Path("/"), {}))  # CI's test dynos stay local
    assert not runs_on_swarm(DynoSpec("a", "web.1", "x", Path("/"), {}, formation=True))


@pytest.fixture()
def listener() -> Iterator[tuple[Rendezvous, str]]:
    d = Path(tempfile.mkdtemp(prefix="hoist-dial-"))
    rv = Rendezvous(LocalCA(d / "ca"), d / "cert", ttl=60, names=("127.0.0.1",))
    rv.start()
    der = ssl.PEM_cert_to_DER_cert(rv.ca.cert_path.read_text())
    yield rv, base64.b64encode(der).decode()
    rv.close()
    shutil.rmtree(d, ignore_errors=True)


async def start(listener: tuple[Rendezvous, str], command: str, *, tty: bool = False, detached: bool = False,
                secret: str = "") -> tuple[RemoteOneOff, subprocess.Popen[bytes], list[str]]:
    rv, ca = listener
    lines: list[str] = []
    removed: list[bool] = []
    proc = RemoteOneOff("run.1", tty, lines.append if detached else None, asyncio.get_running_loop(),
                        lambda: removed.append(True))
    real = secrets.token_urlsafe(16)
    rv.register(real, proc.serve)
    env = {"PATH": os.environ["PATH"], "HOIST_ATTACH": f"127.0.0.1:{rv.port}", "HOIST_ATTACH_SECRET": secret or real,
           "HOIST_ATTACH_CA": ca, "HOIST_ATTACH_TTY": "1" if tty else "0", "HOIST_ATTACH_SIZE": "30x100"}
    task = subprocess.Popen([sys.executable, "-c", Path(dialback.__file__).read_text(), "/bin/bash", "-c", command],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, task, lines


def read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 65536):
        out += chunk
    return out


def test_detached_lines_and_exit_status(listener: tuple[Rendezvous, str]) -> None:
    asyncio.run(_detached_lines_and_exit_status(listener))


async def _detached_lines_and_exit_status(listener: tuple[Rendezvous, str]) -> None:
    proc, task, lines = await start(listener, "echo one; echo two >&2; printf 'no newline'; exit 3", detached=True)
    assert await asyncio.wait_for(proc.wait(), 30) == 3
    await asyncio.sleep(0.1)  # the lines are handed to the loop before the end
    assert lines == ["one", "two", "no newline"]
    assert task.wait(10) == 3
    proc, task, lines = await start(listener, "cat; echo stdin ended", detached=True)  # a detached one has no stdin
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    await asyncio.sleep(0.1)
    assert lines == ["stdin ended"]
    task.wait(10)


def test_attached_pipes_stdin_and_eof(listener: tuple[Rendezvous, str]) -> None:
    asyncio.run(_attached_pipes_stdin_and_eof(listener))


async def _attached_pipes_stdin_and_eof(listener: tuple[Rendezvous, str]) -> None:
    proc, task, _ = await start(listener, "read a; echo got $a; cat; echo done $HOIST_ATTACH_SECRET.")
    assert proc.fd_in is not None
    os.write(proc.fd_in, b"hello\nrest\n")
    proc.close_stdin()  # EOF reaches the command's stdin: cat ends
    out = await asyncio.to_thread(read_all, proc.fd_out)
    assert out == b"got hello\nrest\ndone .\n"  # the attach variables are not the command's
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    proc.close()
    task.wait(10)


def test_attached_pty_and_signal(listener: tuple[Rendezvous, str]) -> None:
    asyncio.run(_attached_pty_and_signal(listener))


async def _attached_pty_and_signal(listener: tuple[Rendezvous, str]) -> None:
    proc, task, _ = await start(listener, "stty size; tty -s && echo TTY; trap 'echo TERM; exit 7' TERM; "
                                          "echo ready; while :; do sleep 0.1; done", tty=True)
    out = b""
    while b"ready" not in out:
        out += await asyncio.to_thread(os.read, proc.fd_out, 4096)
    assert b"30 100" in out and b"TTY" in out
    proc.signal(signal.SIGTERM)
    rest = await asyncio.to_thread(read_all_pty, proc.fd_out)
    assert b"TERM" in rest
    assert await asyncio.wait_for(proc.wait(), 30) == 7
    proc.close()
    task.wait(10)


def read_all_pty(fd: int) -> bytes:
    try:
        return read_all(fd)
    except OSError:
        return b""


def test_wrong_secret_runs_nothing(listener: tuple[Rendezvous, str]) -> None:
    asyncio.run(_wrong_secret_runs_nothing(listener))


async def _wrong_secret_runs_nothing(listener: tuple[Rendezvous, str]) -> None:
    proc, task, _ = await start(listener, "echo SHOULD-NOT-RUN", detached=True, secret="wrong")
    assert await asyncio.to_thread(task.wait, 30) == 255
    assert task.stderr is not None and b"refused" in task.stderr.read()
    assert not proc.connected.is_set()
    proc.signal(signal.SIGKILL)  # hoist gives up on it: it ends without ever running
    assert await proc.wait() == -9
