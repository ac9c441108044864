"""Guarded dyno ports: one nftables table per hoist server (named from a hash of
its home, so several servers on one machine never touch each other's) that lets
only the owning app's user and hoist connect to a web dyno's $PORT over
loopback, and drops connections to it from the network (they go through the
router). Rendering the ruleset is pure; applying it runs `nft -f -`."""
from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Protocol

FAMILY = "inet"  # one table for IPv4 and IPv6
MODES = ("auto", "on", "off")
NFT_TIMEOUT = 10.0
INSTALL_HINT = "install nftables (`apt-get install nftables`) and restart hoist"


class FirewallError(Exception):
    """nft is missing or refused a change; the message says what to do."""


class PortGuard(Protocol):
    async def guard(self, app: str, port: int, key: str) -> None:
        """Before the dyno starts: only `app`'s user (and hoist) may connect to `port`."""

    def release(self, port: int, key: str) -> None:
        """The dyno that `guard` was called for (same key) is gone: open the port again."""


# ----- pure: names and ruleset text -----

def table_name(home: Path) -> str:
    """`hoist_<8 hex>`, from the server's home: each hoist server owns exactly one table."""
    return "hoist_" + hashlib.sha256(str(home).encode()).hexdigest()[:8]


def render_ruleset(table: str, hoist_uid: int, guarded: Mapping[int, int] | None = None) -> str:
    """The whole table, replacing any stale one atomically (a crashed server leaves its table behind).

    `guarded` maps port -> the uid allowed besides hoist's. Output on lo: a new TCP connection to
    a guarded port passes only from its app's uid or hoist's. Input from any other interface:
    dropped (gunicorn binds 0.0.0.0:$PORT; the network must come through the router)."""
    guarded = dict(guarded or {})
    ports = ", ".join(str(p) for p in sorted(guarded))
    pairs = ", ".join(f"{p} . {u}" for p, u in sorted(guarded.items()))
    lines = [
        # `table` then `delete table`: the delete cannot fail, whether or not the table existed.
        f"table {FAMILY} {table}",
        f"delete table {FAMILY} {table}",
        f"table {FAMILY} {table} {{",
        "\tset guarded {",
        "\t\ttype inet_service",
        *([f"\t\telements = {{ {ports} }}"] if guarded else []),
        "\t}",
        "\tset allowed {",
        "\t\ttype inet_service . uid",
        *([f"\t\telements = {{ {pairs} }}"] if guarded else []),
        "\t}",
        "\tchain out {",
        "\t\ttype filter hook output priority 0; policy accept;",
        '\t\toif "lo" ct state new tcp dport . meta skuid @allowed accept',
        f'\t\toif "lo" ct state new tcp dport @guarded meta skuid != {int(hoist_uid)} reject with tcp reset',
        "\t}",
        "\tchain in {",
        "\t\ttype filter hook input priority 0; policy accept;",
        '\t\tiif != "lo" ct state new tcp dport @guarded drop',
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def render_add(table: str, port: int, uid: int) -> str:
    return (f"add element {FAMILY} {table} guarded {{ {int(port)} }}\n"
            f"add element {FAMILY} {table} allowed {{ {int(port)} . {int(uid)} }}\n")


def render_delete(table: str, port: int, uid: int) -> str:
    return (f"delete element {FAMILY} {table} guarded {{ {int(port)} }}\n"
            f"delete element {FAMILY} {table} allowed {{ {int(port)} . {int(uid)} }}\n")


def render_drop(table: str) -> str:
    """Delete the table; succeeds whether or not it exists."""
    return f"table {FAMILY} {table}\ndelete table {FAMILY} {table}\n"


# ----- I/O -----

def _failure(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stderr or proc.stdout or f"exit status {proc.returncode}").strip().splitlines()[0]


def run_nft(nft: str, script: str) -> None:
    """Apply `script` as one nft transaction (all or nothing)."""
    try:
        proc = subprocess.run([nft, "-f", "-"], input=script, capture_output=True, text=True, timeout=NFT_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FirewallError(f"nft did not run: {exc}") from None
    if proc.returncode != 0:
        raise FirewallError(f"nft failed: {_failure(proc)}")


async def run_nft_async(nft: str, script: str) -> None:
    try:
        proc = await asyncio.create_subprocess_exec(nft, "-f", "-", stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(script.encode()), NFT_TIMEOUT)
    except (OSError, asyncio.TimeoutError) as exc:
        raise FirewallError(f"nft did not run: {exc!r}") from None
    if proc.returncode != 0:
        text = (err or out).decode("utf-8", "replace").strip()
        raise FirewallError(f"nft failed: {text.splitlines()[0] if text else f'exit status {proc.returncode}'}")


@dataclass
class _Entry:
    uid: int
    key: str


class Firewall:
    """The server's table: created fresh at start, one element pair per running web dyno, deleted at stop.

    Failures after start are reported (a hoist line) and never raised: a dyno with an unguarded
    port is still only reachable by users on this machine, and a deploy must not fail for it."""

    def __init__(self, table: str, nft: str, uid_for: Callable[[str], int], report: Callable[[str], None],
                 hoist_uid: int | None = None) -> None:
        self.table = table
        self.nft = nft
        self.uid_for = uid_for
        self.report = report
        self.hoist_uid = os.geteuid() if hoist_uid is None else hoist_uid
        self.ports: dict[int, _Entry] = {}
        self._lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def start(self) -> None:
        """Replace any table a crashed server left with an empty one; raises FirewallError."""
        run_nft(self.nft, render_ruleset(self.table, self.hoist_uid))

    def _serial(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def guard(self, app: str, port: int, key: str) -> None:
        if self._closed:
            return
        try:
            uid = self.uid_for(app)
        except Exception as exc:  # no user for the app: it cannot be guarded, but it still runs
            self.report(f"could not guard port {port} of app {app}: no app user ({exc})")
            return
        async with self._serial():
            script = render_add(self.table, port, uid)
            stale = self.ports.pop(port, None)
            if stale is not None:  # the port was reused before its old dyno's release ran
                script = render_delete(self.table, port, stale.uid) + script
            try:
                await run_nft_async(self.nft, script)
            except FirewallError as exc:
                self.report(f"could not guard port {port} of app {app}; other local users can reach it "
                            f"until the dyno restarts ({exc})")
                return
            self.ports[port] = _Entry(uid, key)

    def release(self, port: int | None, key: str) -> None:
        if self._closed or not port:
            return
        task = asyncio.ensure_future(self._release(port, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, port: int, key: str) -> None:
        async with self._serial():
            entry = self.ports.get(port)
            if entry is None or entry.key != key or self._closed:
                return  # never guarded, or a newer dyno has the port now
            del self.ports[port]
            try:
                await run_nft_async(self.nft, render_delete(self.table, port, entry.uid))
            except FirewallError as exc:
                self.report(f"could not unguard port {port} ({exc})")

    async def close(self) -> None:
        """Delete the table (a clean shutdown leaves nothing behind)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._closed = True
        self.ports.clear()
        try:
            await run_nft_async(self.nft, render_drop(self.table))
        except FirewallError as exc:
            self.report(f"could not delete the nftables table {FAMILY} {self.table} ({exc}); "
                        f"remove it with `nft delete table {FAMILY} {self.table}`")


def start_firewall(mode: str, home: Path, uid_for: Callable[[str], int] | None,
                   say: Callable[[str], None]) -> Firewall | None:
    """Per HOIST_FIREWALL: a started Firewall when apps are isolated and nft works, else None.

    Says in the startup output whether dyno ports are guarded. `on` makes a failure fatal
    (FirewallError); `auto` reports it and runs on (isolation by users still holds)."""
    if mode not in MODES:
        raise FirewallError(f"HOIST_FIREWALL={mode!r} is not one of {', '.join(MODES)}; set it to auto "
                            "(guard dyno ports when possible), on (require it) or off")
    if mode == "off":
        say("dyno ports are not guarded (HOIST_FIREWALL=off): any local user can connect to a web dyno's $PORT")
        return None
    if uid_for is None:
        message = ("dyno ports are not guarded: that needs per-app users, which need root; any local user "
                   "can connect to a web dyno's $PORT")
        if mode == "on":
            raise FirewallError(message + ". Run hoist as root, or set HOIST_FIREWALL=auto")
        say(message)
        return None
    nft = shutil.which("nft")
    table = table_name(home)
    try:
        if nft is None:
            raise FirewallError(f"nft (nftables) is not installed; {INSTALL_HINT}")
        fw = Firewall(table, nft, uid_for, lambda m: say(f"firewall: {m}"))
        fw.start()
    except FirewallError as exc:
        message = f"dyno ports are NOT guarded: {exc}"
        if "not installed" not in str(exc):
            message += "; check that the kernel has nf_tables (`modprobe nf_tables`) and that `nft list tables` works"
        if mode == "on":
            raise FirewallError(message + ", or set HOIST_FIREWALL=auto") from None
        say(message + ". Apps still run as separate users; other apps' dynos can connect to a web dyno's $PORT")
        return None
    say(f"dyno ports are guarded (nftables table {FAMILY} {table}): only the owning app and hoist can connect "
        "to a web dyno's $PORT, and the network cannot (it goes through the router)")
    return fw
