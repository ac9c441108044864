"""A web command that daemonizes (`gunicorn --daemon`, `uwsgi --daemonize`) exits 0 at once while its
server runs on, detached in a session of its own: outside the dyno's process group, so stopping the
dyno would not stop it, and the dyno looks as if it ended. It is found by the port it listens on (the
dyno's own $PORT, chosen for it), named as the cause, and stopped."""
from __future__ import annotations

import contextlib
import os
import re
import signal
from pathlib import Path

_FLAG = re.compile(r"(?:^|\s)(--daemon(?:ize)?(?:=\S+)?|-D|--daemonize2)(?=\s|$)")
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's st column


def daemon_flag(command: str) -> str | None:
    """The option in a Procfile command that daemonizes its server (`--daemon`, `-D`), if any. Pure."""
    m = _FLAG.search(command)
    return m.group(1) if m else None


def listening_inodes(port: int, proc: Path = Path("/proc")) -> set[str]:
    """Socket inodes listening on `port` (IPv4 and IPv6)."""
    found: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == _LISTEN and int(cols[1].rsplit(":", 1)[1], 16) == port:
                found.add(cols[9])
    return found


def holders(inodes: set[str], proc: Path = Path("/proc")) -> list[int]:
    """The processes holding one of these sockets."""
    wanted = {f"socket:[{i}]" for i in inodes}
    pids: list[int] = []
    if not wanted:
        return pids
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                pids.append(int(entry.name))
    return sorted(pids)


def _has_port(pid: int, port: int) -> bool:
    """The process was started with this dyno's PORT (so it is the dyno's, not a stranger's)."""
    try:
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"PORT={port}".encode() in env


def _name(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return "a process"
    return command_name([w.decode("utf-8", "replace") for w in words])


def command_name(argv: list[str]) -> str:
    """How a process reads in a message: `gunicorn --daemon app:app`, not its interpreter's path. Pure."""
    if len(argv) > 1 and Path(argv[0]).name.startswith("python"):
        argv = argv[1:]  # a script run by its shebang
    text = " ".join([Path(argv[0]).name, *argv[1:]]) if argv else "a process"
    return text if len(text) <= 60 else text[:57] + "..."


def stop_leftovers(port: int) -> str | None:
    """Kill what a dyno that exited left listening on its $PORT; return what it was (None: nothing)."""
    pids = [p for p in holders(listening_inodes(port)) if _has_port(p, port)]
    if not pids:
        return None
    name = _name(pids[0])
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return name


def explain(dyno: str, command: str, leftover: str | None) -> str:
    """Why a web dyno that exited 0 while booting is not serving, and what to change. Pure."""
    flag = daemon_flag(command)
    if leftover or flag:
        what = f" and left `{leftover}` listening on $PORT in the background" if leftover else ""
        cause = f"`{flag}` in the Procfile's web command" if flag else "the web command"
        fix = f"remove `{flag}` from the Procfile" if flag else "run the server in the foreground"
        return (f"{dyno} exited with status 0 while booting{what}: {cause} daemonized the server. A dyno's "
                f"command must stay in the foreground (as on Heroku); {fix} and push again")
    return (f"{dyno} exited with status 0 while booting: the web command ended, but it must keep running in the "
            "foreground and listen on $PORT (did it daemonize, or only set something up?)")
