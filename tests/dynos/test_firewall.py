"""Guarded dyno ports: the rendered nftables ruleset (pure), then the real kernel as root —
loopback connections from another uid are refused, and connections from another network
namespace (over a veth pair) to a guarded port are dropped while an unguarded one answers."""
from __future__ import annotations

import asyncio
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from hoist.dynos.firewall import (Firewall, FirewallError, render_add, render_delete, render_drop, render_ruleset,
                                  start_firewall, table_name)

NFT = shutil.which("nft")
PY = "/usr/bin/python3"  # runnable by `nobody` (the venv lives under /root)
needs_nft = pytest.mark.skipif(os.geteuid() != 0 or NFT is None, reason="needs root and nft (apt-get install nftables)")


def test_table_name_is_per_home_and_a_valid_identifier() -> None:
    a, b = table_name(Path("/var/lib/hoist")), table_name(Path("/tmp/other"))
    assert a != b and a == table_name(Path("/var/lib/hoist"))
    assert a.startswith("hoist_") and len(a) == len("hoist_") + 8 and a.replace("_", "").isalnum()


def test_ruleset_recreates_the_table_and_guards_output_and_input() -> None:
    text = render_ruleset("hoist_abcd1234", 0, {5001: 998, 5000: 997})
    lines = [line.strip() for line in text.splitlines()]
    # a stale table from a crashed server is replaced in the same transaction
    assert lines[:3] == ["table inet hoist_abcd1234", "delete table inet hoist_abcd1234",
                         "table inet hoist_abcd1234 {"]
    assert "elements = { 5000, 5001 }" in lines
    assert "elements = { 5000 . 997, 5001 . 998 }" in lines
    allow = lines.index('oif "lo" ct state new tcp dport . meta skuid @allowed accept')
    reject = lines.index('oif "lo" ct state new tcp dport @guarded meta skuid != 0 reject with tcp reset')
    assert allow < reject  # the owner's accept comes first
    assert 'iif != "lo" ct state new tcp dport @guarded drop' in lines
    assert "type filter hook output priority 0; policy accept;" in lines
    assert "type filter hook input priority 0; policy accept;" in lines


def test_empty_ruleset_has_no_elements_and_uses_hoists_uid() -> None:
    text = render_ruleset("hoist_0", 1234)
    assert "elements" not in text and "skuid != 1234 reject" in text


def test_element_changes_and_drop() -> None:
    assert render_add("t", 5000, 997) == ("add element inet t guarded { 5000 }\n"
                                          "add element inet t allowed { 5000 . 997 }\n")
    assert render_delete("t", 5000, 997) == render_add("t", 5000, 997).replace("add ", "delete ")
    assert render_drop("t") == "table inet t\ndelete table inet t\n"


def test_modes_off_unknown_and_non_root() -> None:
    said: list[str] = []
    assert start_firewall("off", Path("/x"), lambda a: 0, said.append) is None
    assert "not guarded (HOIST_FIREWALL=off)" in said[-1]
    assert start_firewall("auto", Path("/x"), None, said.append) is None
    assert "not guarded" in said[-1] and "root" in said[-1]
    with pytest.raises(FirewallError, match="which need root"):
        start_firewall("on", Path("/x"), None, said.append)
    with pytest.raises(FirewallError, match="auto"):
        start_firewall("maybe", Path("/x"), lambda a: 0, said.append)


def test_missing_nft_is_said_plainly_and_hoist_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    said: list[str] = []
    assert start_firewall("auto", Path("/x"), lambda a: 0, said.append) is None
    assert "NOT guarded" in said[-1] and "apt-get install nftables" in said[-1]
    with pytest.raises(FirewallError, match="apt-get install nftables"):
        start_firewall("on", Path("/x"), lambda a: 0, said.append)


# ----- the real kernel (root) -----

def _listen(host: str = "0.0.0.0") -> socket.socket:
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(16)

    def accept() -> None:
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            conn.close()
    threading.Thread(target=accept, daemon=True).start()
    return s


PROBE = ("import socket, sys\n"
         "try:\n"
         "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()\n"
         "    print('connected')\n"
         "except ConnectionRefusedError: print('refused')\n"
         "except (socket.timeout, TimeoutError): print('timeout')\n")


def probe(host: str, port: int, *, user: int | None = None, netns: str | None = None, timeout: float = 1.5) -> str:
    """Connect from a separate process (as `user`, or inside `netns`) and say what happened."""
    argv = [PY, "-c", PROBE, host, str(port), str(timeout)]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, user=user, check=True).stdout.strip()


@pytest.fixture
def firewall() -> Iterator[Firewall]:
    home = Path(tempfile.mkdtemp(prefix="hoist-fw-"))
    said: list[str] = []
    nobody = pwd.getpwnam("nobody").pw_uid
    fw = start_firewall("on", home, lambda app: nobody if app == "nobodys" else 65000, said.append)
    assert fw is not None and "are guarded" in said[-1]
    try:
        yield fw
    finally:
        subprocess.run(["nft", "delete", "table", "inet", fw.table], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def _tables() -> str:
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout


@needs_nft
def test_loopback_only_the_owner_and_hoist_connect(firewall: Firewall) -> None:
    nobody = pwd.getpwnam("nobody").pw_uid
    mine, theirs, open_, v6 = _listen(), _listen(), _listen(), _listen("::1")
    p_mine, p_theirs, p_open, p_v6 = (s.getsockname()[1] for s in (mine, theirs, open_, v6))

    async def scenario() -> None:
        await firewall.guard("nobodys", p_mine, "k1")
        await firewall.guard("other-app", p_theirs, "k2")
        await firewall.guard("other-app", p_v6, "k3")
        assert probe("127.0.0.1", p_mine, user=nobody) == "connected"  # its own app's port
        assert probe("127.0.0.1", p_theirs, user=nobody) == "refused"  # another app's port
        assert probe("::1", p_v6, user=nobody) == "refused"  # IPv6 loopback too
        assert probe("::1", p_v6) == "connected"
        assert probe("127.0.0.1", p_open, user=nobody) == "connected"  # not a dyno port
        assert probe("127.0.0.1", p_theirs) == "connected"  # hoist (root): router, readiness probe
        firewall.release(p_theirs, "stale-key")  # an older dyno's release must not open a reused port
        firewall.release(p_theirs, "k2")
        await asyncio.gather(*list(firewall._tasks))
        assert probe("127.0.0.1", p_theirs, user=nobody) == "connected"
        await firewall.close()

    try:
        asyncio.run(scenario())
        assert firewall.table not in _tables()
    finally:
        for s in (mine, theirs, open_, v6):
            s.close()


@needs_nft
def test_a_restart_replaces_a_stale_table(firewall: Firewall) -> None:
    asyncio.run(firewall.guard("x", 40999, "k"))
    assert "40999" in subprocess.run(["nft", "list", "table", "inet", firewall.table],
                                     capture_output=True, text=True).stdout
    firewall.start()  # what the next server does after a crash
    listed = subprocess.run(["nft", "list", "table", "inet", firewall.table], capture_output=True, text=True).stdout
    assert "40999" not in listed and "@guarded" in listed


@needs_nft
def test_a_failed_change_is_reported_not_raised(firewall: Firewall) -> None:
    reports: list[str] = []
    firewall.report = reports.append
    subprocess.run(["nft", "delete", "table", "inet", firewall.table], check=True)
    asyncio.run(firewall.guard("x", 40998, "k"))  # the table is gone: nft fails
    assert reports and "could not guard port 40998 of app x" in reports[0]
    assert 40998 not in firewall.ports


@pytest.fixture
def netns() -> Iterator[tuple[str, str]]:
    """A network namespace joined to this one by a veth pair in a random private /30: (name, host address)."""
    tag = f"{os.getpid() % 10000}{random.randint(100, 999)}"
    name, host_if, ns_if = f"hoistfw{tag}", f"hfw{tag}h", f"hfw{tag}n"
    a, b = random.randint(16, 31), random.randint(0, 255)  # 172.16.0.0/12
    c = random.randint(0, 63) * 4
    host_ip, ns_ip = f"172.{a}.{b}.{c + 1}", f"172.{a}.{b}.{c + 2}"

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)
    try:
        ip("netns", "add", name)
        ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        ip("link", "set", ns_if, "netns", name)
        ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        ip("link", "set", host_if, "up")
        ip("-n", name, "addr", "add", f"{ns_ip}/30", "dev", ns_if)
        ip("-n", name, "link", "set", ns_if, "up")
        ip("-n", name, "link", "set", "lo", "up")
        yield name, host_ip
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


@needs_nft
def test_the_network_cannot_reach_a_guarded_port(firewall: Firewall, netns: tuple[str, str]) -> None:
    name, host_ip = netns
    guarded, unguarded = _listen(), _listen()
    p_guarded, p_unguarded = guarded.getsockname()[1], unguarded.getsockname()[1]
    try:
        assert probe(host_ip, p_guarded, netns=name) == "connected"  # before: wide open
        asyncio.run(firewall.guard("nobodys", p_guarded, "k"))
        assert probe(host_ip, p_guarded, netns=name, timeout=1.0) == "timeout"  # dropped, not refused
        assert probe(host_ip, p_unguarded, netns=name) == "connected"
        assert probe(host_ip, p_guarded) == "connected"  # locally (over lo) hoist still connects
    finally:
        guarded.close()
        unguarded.close()
