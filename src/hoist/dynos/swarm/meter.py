"""The entrypoint of every swarm dyno's container: runs the dyno's command and reports the container's
memory, as Heroku's log-runtime-metrics does, on its own output.

hoist reaches only the swarm manager, and container stats live on each node's engine; the dyno itself can
read its own cgroup. So this wrapper (stdlib only: it runs as `python -I -c SOURCE` with the slug's own
interpreter, which the image has at the host's path) starts `bash -c COMMAND` in its own process group,
forwards SIGTERM/SIGINT/SIGHUP to that group, reaps every child (it is PID 1), and every INTERVAL
seconds (and once when the command exits) writes one marker line:

    \\x1ehoist-meter used=BYTES oom=KILLS

BYTES is what the container's processes use (resident anonymous memory + mapped files + swap, from
memory.stat; page cache left out, as for local dynos), KILLS how many processes the kernel killed in the
container at its memory limit (v1 memory.oom_control / v2 memory.events `oom_kill`). hoist's log reader
strips these lines (see logs.py) and turns them into the dyno's usage(): R14, R15 and `ps` memory.
It exits with the command's status (128 + N when a signal N killed it, as a shell reports it)."""
import os
import signal
import sys
from typing import Dict, List, Optional, Tuple

MARK = "\x1ehoist-meter "
V1 = "/sys/fs/cgroup/memory"
V2 = "/sys/fs/cgroup"


def keyed(text: str) -> Dict[str, int]:
    """`key value` lines (memory.stat, memory.events, memory.oom_control) as a dict. Pure."""
    out: Dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value.strip())
    return out


def in_use(stat: Dict[str, int], v2: bool, swap: int = 0) -> int:
    """Bytes in use from a memory.stat (the same sum as hoist.contain.layout.memory_in_use). Pure."""
    if v2:
        return stat.get("anon", 0) + stat.get("file_mapped", 0) + swap
    return stat.get("total_rss", 0) + stat.get("total_mapped_file", 0) + stat.get("total_swap", 0)


def marker(used: int, oom: int) -> str:
    return f"{MARK}used={used} oom={oom}\n"


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def sample(v1: str = V1, v2: str = V2) -> Optional[Tuple[int, int]]:
    """(bytes in use, OOM kills) of this container's cgroup, v1 or v2; None if neither is readable."""
    stat = keyed(_read(f"{v1}/memory.stat"))
    if stat:
        return in_use(stat, False), keyed(_read(f"{v1}/memory.oom_control")).get("oom_kill", 0)
    stat = keyed(_read(f"{v2}/memory.stat"))
    if stat:
        swap = _read(f"{v2}/memory.swap.current").strip()
        return (in_use(stat, True, int(swap) if swap.isdigit() else 0),
                keyed(_read(f"{v2}/memory.events")).get("oom_kill", 0))
    return None


def report(*_args: object) -> None:
    got = sample()
    if got is not None:
        os.write(1, marker(*got).encode())  # one write of one short line: never torn


def main(argv: List[str]) -> int:
    interval, command = float(argv[0]), argv[1:]
    child = os.fork()
    if child == 0:
        os.setpgid(0, 0)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    try:
        os.setpgid(child, child)
    except OSError:
        pass  # the child did it first

    def forward(signum: int, _frame: object) -> None:
        try:
            os.killpg(child, signum)
        except OSError:
            pass
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, forward)
    # A timer signal, not a thread: the base image has no libgcc_s, which a thread needs to exit.
    signal.signal(signal.SIGALRM, report)
    signal.setitimer(signal.ITIMER_REAL, interval, interval)
    status = 0
    while True:  # PID 1 reaps every orphan; the command's own status is the exit status
        try:
            pid, raw = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = 128 + os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)
            break
    signal.setitimer(signal.ITIMER_REAL, 0)
    report()  # the last word: an OOM kill shows up here
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
