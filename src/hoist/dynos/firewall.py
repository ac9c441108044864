"""Guarded dyno listeners: one nftables table per hoist server (named from a hash of
its home, so several servers on one machine never touch each other's).

Every listener of an app's dynos — any port, TCP and UDP, worker ports and second
ports included — answers only its own app's user and hoist: on output over loopback
a new connection's conntrack entry is marked with its sender's uid (`@marks`, hoist's
and each app user's); on input, a new connection to a socket in an app's cgroup v2
(`socket cgroupv2 level N`, the app's cgroup `apps/APP` of hoist's tree) passes only
with hoist's mark or that app's (`@owners`), is refused over loopback and dropped from
the network (which goes through the router). The ports need not be known, so a dyno's
own second port is covered the moment it listens. Beside it, each web dyno's $PORT is
guarded by number (`@guarded`, `@allowed`): that part needs no cgroup v2 hierarchy.
Rendering the ruleset is pure; applying it runs `nft -f -`."""
from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Coroutine, Iterable, Mapping, Protocol

FAMILY = "inet"  # one table for IPv4 and IPv6
MODES = ("auto", "on", "off")
MARK = 0x80000000  # ct mark of a loopback connection: this bit, or'ed with its sender's uid
NFT_TIMEOUT = 10.0
INSTALL_HINT = "install nftables (`apt-get install nftables`) and restart hoist"


class FirewallError(Exception):
    """nft is missing or refused a change; the message says what to do."""


@dataclass(frozen=True)
class AppCgroup:
    """An app's cgroup as nftables names it (`socket cgroupv2 level N "PATH"`) and its user's uid."""

    path: str
    uid: int


class PortGuard(Protocol):
    async def guard(self, app: str, port: int | None, key: str) -> None:
        """Before the dyno starts: only `app`'s user (and hoist) may connect to its listeners (and `port`)."""

    def release(self, port: int, key: str) -> None:
        """The dyno that `guard` was called for (same key) is gone: open the port again."""


# ----- pure: names and ruleset text -----

def table_name(home: Path) -> str:
    """`hoist_<8 hex>`, from the server's home: each hoist server owns exactly one table."""
    return "hoist_" + hashlib.sha256(str(home).encode()).hexdigest()[:8]


def mark(uid: int) -> str:
    return hex(MARK | int(uid))


def render_ruleset(table: str, hoist_uid: int, guarded: Mapping[int, int] | None = None,
                   apps: Mapping[str, AppCgroup] | None = None, level: int | None = None) -> str:
    """The whole table, replacing any stale one atomically (a crashed server leaves its table behind).

    `guarded` maps port -> the uid allowed besides hoist's. Output on lo: a new TCP connection to
    a guarded port passes only from its app's uid or hoist's. Input from any other interface:
    dropped (gunicorn binds 0.0.0.0:$PORT; the network must come through the router).
    `apps` (with the cgroup `level` of apps, when there is a cgroup v2 hierarchy): every listener
    in an app's cgroup answers only its app's uid and hoist's, whatever its port or protocol."""
    guarded = dict(guarded or {})
    apps = dict(apps or {})
    ports = ", ".join(str(p) for p in sorted(guarded))
    pairs = ", ".join(f"{p} . {u}" for p, u in sorted(guarded.items()))
    marks = {a.uid: mark(a.uid) for a in apps.values()}
    cgroup_lines: list[str] = []
    if level is not None:
        names = ", ".join(f'"{a.path}"' for _, a in sorted(apps.items()))
        owners = ", ".join(f'"{a.path}" . {mark(a.uid)}' for _, a in sorted(apps.items()))
        cgroup_lines = [
            "\tset apps {", "\t\ttype cgroupsv2", *([f"\t\telements = {{ {names} }}"] if apps else []), "\t}",
            "\tset owners {", "\t\ttype cgroupsv2 . mark", *([f"\t\telements = {{ {owners} }}"] if apps else []), "\t}",
        ]
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
        "\tmap marks {",
        "\t\ttype uid : mark",
        *([f"\t\telements = {{ {', '.join(f'{u} : {m}' for u, m in sorted(marks.items()))} }}"] if marks else []),
        "\t}",
        *cgroup_lines,
        "\tchain out {",
        "\t\ttype filter hook output priority 0; policy accept;",
        f'\t\toif "lo" ct state new meta skuid {int(hoist_uid)} ct mark set {mark(hoist_uid)}',
        '\t\toif "lo" ct state new ct mark set meta skuid map @marks',
        '\t\toif "lo" ct state new tcp dport . meta skuid @allowed accept',
        f'\t\toif "lo" ct state new tcp dport @guarded meta skuid != {int(hoist_uid)} reject with tcp reset',
        "\t}",
        "\tchain in {",
        "\t\ttype filter hook input priority 0; policy accept;",
        '\t\tiif != "lo" ct state new tcp dport @guarded drop',
        *([f"\t\tct state new ct mark {mark(hoist_uid)} accept",
           f"\t\tct state new socket cgroupv2 level {level} . ct mark @owners accept",
           f'\t\tiif != "lo" ct state new socket cgroupv2 level {level} @apps drop',
           f"\t\tct state new socket cgroupv2 level {level} @apps reject"] if level is not None else []),
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def render_app(table: str, app: AppCgroup, verb: str = "add") -> str:
    """Add (or delete) an app's cgroup, its owner pair and its user's mark."""
    return (f"{verb} element {FAMILY} {table} apps {{ \"{app.path}\" }}\n"
            f"{verb} element {FAMILY} {table} owners {{ \"{app.path}\" . {mark(app.uid)} }}\n"
            f"{verb} element {FAMILY} {table} marks {{ {int(app.uid)} : {mark(app.uid)} }}\n")


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
    """The server's table: created fresh at start, an element per guarded app and per running web dyno's
    port, deleted at a clean stop (and kept when hoist hands over to its next run: the dynos go on).

    `app_cgroup(app)` makes the app's cgroup and names it for nftables (None: no cgroup v2, so only
    $PORTs are guarded); `level` is the depth of app cgroups below the v2 root. Failures after start
    are reported (a hoist line) and never raised: an unguarded listener is still only reachable from
    this machine, and a deploy must not fail for it."""

    def __init__(self, table: str, nft: str, uid_for: Callable[[str], int], report: Callable[[str], None],
                 hoist_uid: int | None = None, *, app_cgroup: Callable[[str], str | None] | None = None,
                 level: int | None = None) -> None:
        self.table = table
        self.nft = nft
        self.uid_for = uid_for
        self.report = report
        self.hoist_uid = os.geteuid() if hoist_uid is None else hoist_uid
        self.app_cgroup = app_cgroup
        self.level = level if app_cgroup is not None else None
        self.ports: dict[int, _Entry] = {}
        self.apps: dict[str, AppCgroup] = {}
        self._lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def start(self, apps: Iterable[str] = (), ports: Mapping[int, tuple[str, str]] | None = None) -> None:
        """Replace any table a crashed server left with this server's: `apps` guarded, and `ports` (port ->
        (app, key): web dynos a previous hoist left running, adopted now) guarded; raises FirewallError."""
        self.apps.clear()
        self.ports.clear()
        for app in apps:
            self._app(app)
        for port, (app, key) in (ports or {}).items():
            try:
                self.ports[port] = _Entry(self.uid_for(app), key)
            except Exception as exc:  # noqa: BLE001 - an app without a user is not guarded, and says so
                self.report(f"could not guard port {port} of app {app}: no app user ({exc})")
        run_nft(self.nft, render_ruleset(self.table, self.hoist_uid, {p: e.uid for p, e in self.ports.items()},
                                         self.apps, self.level))

    def _app(self, app: str) -> AppCgroup | None:
        """The app's cgroup and user, made now if need be (None when they cannot be had)."""
        if self.app_cgroup is None:
            return None
        try:
            path = self.app_cgroup(app)
            entry = AppCgroup(path, self.uid_for(app)) if path else None
        except Exception as exc:  # noqa: BLE001 - reported; the app still runs
            self.report(f"could not guard the dynos of app {app} ({exc})")
            return None
        if entry is not None:
            self.apps[app] = entry
        return entry

    def _serial(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def guard(self, app: str, port: int | None, key: str) -> None:
        if self._closed:
            return
        async with self._serial():
            if app not in self.apps and self.app_cgroup is not None:
                entry = self._app(app)
                if entry is not None:
                    try:
                        await run_nft_async(self.nft, render_app(self.table, entry))
                    except FirewallError as exc:
                        del self.apps[app]
                        self.report(f"could not guard the dynos of app {app}; other local users can reach their "
                                    f"listeners until the next dyno starts ({exc})")
        if port is None:
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
        self._track(self._release(port, key))

    def _track(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
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

    def rename(self, old: str, new: str) -> None:
        """The app is called `new`: its cgroup and user are the same (named by uid), so only the key moves."""
        entry = self.apps.pop(old, None)
        if entry is not None:
            self.apps[new] = entry

    async def forget_app(self, app: str) -> None:
        """The app is destroyed (its dynos are gone): its elements go, before its cgroup does."""
        async with self._serial():
            entry = self.apps.pop(app, None)
            if entry is None or self._closed:
                return
            try:
                await run_nft_async(self.nft, render_app(self.table, entry, "delete"))
            except FirewallError as exc:
                self.report(f"could not forget app {app} ({exc})")

    async def close(self, keep: bool = False) -> None:
        """Delete the table (a clean shutdown leaves nothing behind); `keep`: hoist hands over to its next
        run and the dynos go on, guarded, until it replaces the table."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._closed = True
        self.ports.clear()
        if keep:
            return
        try:
            await run_nft_async(self.nft, render_drop(self.table))
        except FirewallError as exc:
            self.report(f"could not delete the nftables table {FAMILY} {self.table} ({exc}); "
                        f"remove it with `nft delete table {FAMILY} {self.table}`")


def start_firewall(mode: str, home: Path, uid_for: Callable[[str], int] | None,
                   say: Callable[[str], None], *, app_cgroup: Callable[[str], str | None] | None = None,
                   level: int | None = None, apps: Iterable[str] = (),
                   ports: Mapping[int, tuple[str, str]] | None = None) -> Firewall | None:
    """Per HOIST_FIREWALL: a started Firewall when apps are isolated and nft works, else None.

    `app_cgroup` and `level` (see Firewall) guard every listener of every app; without them only web
    dynos' $PORTs are. `apps` and `ports` are what runs already (adopted from a previous hoist).
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
        fw = Firewall(table, nft, uid_for, lambda m: say(f"firewall: {m}"), app_cgroup=app_cgroup, level=level)
        fw.start(apps, ports)
    except FirewallError as exc:
        message = f"dyno ports are NOT guarded: {exc}"
        if "not installed" not in str(exc):
            message += "; check that the kernel has nf_tables (`modprobe nf_tables`) and that `nft list tables` works"
        if mode == "on":
            raise FirewallError(message + ", or set HOIST_FIREWALL=auto") from None
        say(message + ". Apps still run as separate users; other apps' dynos can connect to a web dyno's $PORT")
        return None
    if fw.level is not None:
        say(f"dyno ports are guarded (nftables table {FAMILY} {table}): every listener of a dyno, any port, TCP "
            "and UDP, answers only its own app and hoist, and the network cannot reach it (it goes through the "
            "router)")
    else:
        say(f"dyno ports are guarded (nftables table {FAMILY} {table}): only the owning app and hoist can connect "
            "to a web dyno's $PORT, and the network cannot (it goes through the router); other listeners of "
            "dynos are not guarded (that needs a cgroup v2 hierarchy)")
    return fw
