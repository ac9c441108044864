"""A drain against real receivers: a TCP and a TLS syslog listener (asyncio, octet-counted frames) and an
HTTPS endpoint. Order across a receiver restart, the bounded buffer and its L10 line, certificates that do
not verify, and a dead receiver that never blocks the caller."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from hoist.logs.drain import DrainSender
from hoist.logs.drain_transport import transport_for
from hoist.logs.drain_url import parse_drain_url
from hoist.logs.drains import Drains
from hoist.logs.line import LogLine, now_iso
from tests.logs.receivers import HttpsReceiver, SyslogReceiver, free_port, make_ca


def line(i: int) -> LogLine:
    return LogLine(now_iso(), "app", "web.1", f"line {i}")


def numbers(texts: list[str]) -> list[int]:
    return [int(t.rsplit("line ", 1)[1]) for t in texts if " app web.1 - line " in t]


def sender(url: str, ca: Path | None = None, buffer_max: int = 10_000) -> tuple[DrainSender, list[str]]:
    notices: list[str] = []
    s = DrainSender("test", transport_for(parse_drain_url(url), "d.test", str(ca) if ca else None),
                    buffer_max=buffer_max, notice=notices.append, max_backoff=0.5)
    s.start()
    return s, notices


def wait(check, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return make_ca(tmp_path_factory.mktemp("ca"))


def test_syslog_lines_arrive_in_order_with_the_token_as_host() -> None:
    rx = SyslogReceiver().start()
    s, notices = sender(f"syslog://127.0.0.1:{rx.port}")
    try:
        for i in range(300):
            s.offer(line(i))
        texts = rx.wait_for(lambda t: len(t) >= 300)
        assert numbers(texts) == list(range(300))
        assert texts[0].startswith("<190>1 ") and " d.test app web.1 - line 0" in texts[0]
        wait(lambda: s.status().delivered == 300)
        assert notices == []
    finally:
        s.stop()
        rx.close()


def test_every_line_in_order_across_a_receiver_restart(tls) -> None:  # type: ignore[no-untyped-def]
    ca, server_ctx = tls
    rx = SyslogReceiver(server_ctx).start()
    s, notices = sender(f"syslog+tls://localhost:{rx.port}", ca)
    try:
        for i in range(100):
            s.offer(line(i))
            time.sleep(0.005)
        rx.wait_for(lambda t: len(t) >= 100)
        rx.stop()
        for i in range(100, 200):  # the receiver is down: the drain keeps them
            s.offer(line(i))
            time.sleep(0.01)
        assert s.status().state == "failing" and "refused" in (s.status().error or "")
        rx.start()
        for i in range(200, 250):
            s.offer(line(i))
        texts = rx.wait_for(lambda t: len(numbers(t)) >= 250)
        assert numbers(texts) == list(range(250))
        assert any("Drain delivery error" in n and "refused" in n for n in notices)
        assert notices[-1].startswith("Drain delivering again")
        assert rx.connections >= 2
    finally:
        s.stop()
        rx.close()


def test_a_full_buffer_drops_the_newest_and_says_so_with_l10() -> None:
    port = free_port()
    s, notices = sender(f"syslog://127.0.0.1:{port}", buffer_max=10)
    rx = SyslogReceiver(port=port)
    try:
        for i in range(50):  # nobody listens: 10 are kept, 40 dropped (the one in flight is kept too)
            s.offer(line(i))
        wait(lambda: s.status().state == "failing")
        dropped = s.status().dropped
        assert 39 <= dropped <= 40
        rx.start()
        s.offer(line(50))
        texts = rx.wait_for(lambda t: any("line 50" in x for x in t))
        got = numbers(texts)
        kept = 50 - dropped
        assert got == list(range(kept)) + [50]
        l10 = [t for t in texts if "Error L10" in t]
        assert len(l10) == 1 and f"{dropped} messages dropped since" in l10[0] and " heroku logplex - " in l10[0]
        assert texts.index(l10[0]) == kept  # in the gap: after every line older than the dropped ones
        assert any(n.startswith(f"Error L10 (output buffer overflow): {dropped} messages dropped") for n in notices)
    finally:
        s.stop()
        rx.close()


def test_a_certificate_that_does_not_verify_sends_nothing(tls) -> None:  # type: ignore[no-untyped-def]
    _, server_ctx = tls
    rx = SyslogReceiver(server_ctx).start()
    s, notices = sender(f"syslog+tls://localhost:{rx.port}")  # the test CA is not trusted
    try:
        s.offer(line(1))
        wait(lambda: s.status().state == "failing")
        status = s.status()
        assert "does not verify" in (status.error or "") and "HOIST_DRAIN_CA_FILE" in (status.error or "")
        assert notices and notices[0].startswith("Error L14 (certificate validation error)")
        time.sleep(0.3)
        assert rx.messages == [] and rx.bytes == 0 and status.delivered == 0
    finally:
        s.stop()
        rx.close()


def test_a_wrong_host_name_does_not_verify_either(tls) -> None:  # type: ignore[no-untyped-def]
    ca, server_ctx = tls
    rx = SyslogReceiver(server_ctx).start()
    s, _ = sender(f"syslog+tls://127.0.0.2:{rx.port}", ca)  # not a name on the certificate
    try:
        s.offer(line(1))
        wait(lambda: s.status().state == "failing")
        assert rx.bytes == 0
    finally:
        s.stop()
        rx.close()


def test_https_logplex_posts(tls) -> None:  # type: ignore[no-untyped-def]
    ca, server_ctx = tls
    rx = HttpsReceiver(server_ctx)
    s, _ = sender(f"https://user:pw@localhost:{rx.port}/logs?x=1", ca)
    try:
        for i in range(20):
            s.offer(line(i))
        wait(lambda: sum(len(f) for _, f in rx.posts) >= 20)
        headers, frames = rx.posts[0]
        assert headers["logplex-drain-token"] == "d.test" and headers["logplex-frame-id"]
        assert int(headers["logplex-msg-count"]) == len(frames)
        assert headers["content-type"] == "application/logplex-1"
        assert headers["authorization"].startswith("Basic ")
        got = numbers([f.decode() for _, fs in rx.posts for f in fs])
        assert got == list(range(20))
        assert frames[0].decode().split(" ")[2] == "host"
    finally:
        s.stop()
        rx.close()


def test_https_errors_are_retried_with_the_same_frame_id(tls) -> None:  # type: ignore[no-untyped-def]
    ca, server_ctx = tls
    rx = HttpsReceiver(server_ctx, status=503)
    s, notices = sender(f"https://localhost:{rx.port}/", ca)
    try:
        s.offer(line(1))
        wait(lambda: s.status().state == "failing")
        assert "HTTP 503" in (s.status().error or "")
        rx.status = 200
        wait(lambda: len(rx.posts) == 1)
        assert numbers([rx.posts[0][1][0].decode()]) == [1]
    finally:
        s.stop()
        rx.close()


def test_a_dead_drain_never_blocks_the_store_and_stops_promptly() -> None:
    emitted: list[tuple[str, str, str, str]] = []
    drains = Drains(lambda *a: emitted.append(a), buffer_max=100, max_backoff=0.5)
    drains.start("app1", "d1", parse_drain_url(f"syslog://127.0.0.1:{free_port()}"), "d.tok")
    for i in range(5000):  # far beyond the buffer; every call returns
        drains.feed("app1", line(i))
    drains.feed("other-app", line(0))  # an app without drains: nothing
    drains.feed("app1", LogLine(now_iso(), "heroku", "logplex", "a drain's own line is not drained"))
    wait(lambda: (drains.status("app1", "d1") or s0()).state == "failing")
    status = drains.status("app1", "d1")
    assert status is not None and status.dropped >= 4799 and status.buffered <= 100  # 100 kept, up to 100 in flight
    drains.close(flush=0.5)
    assert drains.status("app1", "d1") is None
    assert any(e[2] == "logplex" and "refused" in e[3] for e in emitted)
    assert all("syslog://127.0.0.1" in e[3] for e in emitted)  # the masked URL names the drain


def s0():  # type: ignore[no-untyped-def]
    from hoist.logs.drain import DrainStatus
    return DrainStatus("starting", None, 0, 0, 0)


def test_a_renamed_app_keeps_its_drains() -> None:
    rx = SyslogReceiver().start()
    emitted: list[tuple[str, str, str, str]] = []
    drains = Drains(lambda *a: emitted.append(a), max_backoff=0.5)
    try:
        drains.start("old-name", "d1", parse_drain_url(f"syslog://127.0.0.1:{rx.port}"), "d.tok")
        drains.feed("old-name", line(0))
        rx.wait_for(lambda t: len(t) == 1)
        drains.rename("old-name", "new-name")
        drains.feed("old-name", line(99))  # nothing is called that any more
        drains.feed("new-name", line(1))
        assert numbers(rx.wait_for(lambda t: len(t) == 2)) == [0, 1]
        assert drains.status("new-name", "d1") is not None and drains.status("old-name", "d1") is None
        rx.stop()
        drains.feed("new-name", line(2))
        wait(lambda: any(e[0] == "new-name" and "refused" in e[3] for e in emitted))
        assert all(e[0] == "new-name" for e in emitted)
    finally:
        drains.close(flush=0)
        rx.close()


def test_a_receiver_that_never_reads_does_not_hold_up_a_stop() -> None:
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    s, _ = sender(f"syslog://127.0.0.1:{listener.getsockname()[1]}")
    try:
        big = "x" * 9000
        for i in range(2000):  # ~18 MB: far more than the socket buffers hold, so sendall blocks
            s.offer(LogLine(now_iso(), "app", "web.1", f"{big} line {i}"))
        conn, _ = listener.accept()  # accepted, never read
        wait(lambda: s.status().buffered <= 2000 - 500)  # a batch is being sent
        s.stop(flush=0)
        assert not s._thread.is_alive() and s.status().state == "stopped"
        conn.close()
    finally:
        listener.close()


def test_an_unreadable_ca_file_is_refused_at_start(tmp_path: Path) -> None:
    from hoist.logs.drains import DrainSetupError
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    for path in (tmp_path / "missing.pem", tmp_path / "bad.pem"):
        with pytest.raises(DrainSetupError) as err:
            Drains(lambda *a: None, ca_file=str(path))
        assert "HOIST_DRAIN_CA_FILE" in str(err.value) and "unset it" in str(err.value)
