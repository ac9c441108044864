"""Outside fetches reach public addresses only, and connect to the address that was checked."""
from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.platform.fetch import check_url, checked_address, fetch, is_public
from hoist.platform.tarball import SourceError


class _Handler(http.server.BaseHTTPRequestHandler):
    seen_hosts: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Handler.seen_hosts.append(self.headers.get("Host", ""))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://internal.test/app.tgz")
            self.end_headers()
            return
        if self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024 * 1024))
            self.end_headers()
            return
        body = b"tarball bytes"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1",
                                     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::"])
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(address)
    with pytest.raises(SourceError) as err:
        checked_address("internal.test", 80, resolve=lambda h, p: [address])
    assert "private, loopback or link-local" in str(err.value)


def test_public_addresses_pass_and_one_bad_address_spoils_a_name() -> None:
    assert is_public("93.184.216.34") and is_public("2606:2800:220:1:248:1893:25c8:1946")
    assert checked_address("example.test", 443, resolve=lambda h, p: ["93.184.216.34"]) == "93.184.216.34"
    with pytest.raises(SourceError):
        checked_address("mixed.test", 443, resolve=lambda h, p: ["93.184.216.34", "127.0.0.1"])


@pytest.mark.parametrize("url, words", [
    ("file:///etc/passwd", "file:// URLs are never fetched"),
    ("ftp://example.com/app.tgz", "not a ftp:// URL"),
    ("/just/a/path", "without a scheme"),
    ("http:///nohost", "names no host"),
])
def test_only_http_and_https_urls(url: str, words: str) -> None:
    with pytest.raises(SourceError) as err:
        check_url(url)
    assert words in str(err.value)


def test_the_connection_goes_to_the_checked_address(server: int, tmp_path: Path) -> None:
    """`rebind.test` is resolved once, by the seam; the request reaches that address (a second, system
    resolution of the name would fail) and carries the URL's host name."""
    _Handler.seen_hosts.clear()
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    size = fetch(f"http://rebind.test:{server}/app.tgz", tmp_path / "blob", 1024, resolve=resolve, allow=lambda a: True)
    assert size == 13 and (tmp_path / "blob").read_bytes() == b"tarball bytes"
    assert calls == ["rebind.test"]
    assert _Handler.seen_hosts == [f"rebind.test:{server}"]


def test_a_redirect_is_checked_again(server: int, tmp_path: Path) -> None:
    """The first hop is allowed (a test stand-in for a public host); the redirect's target is not."""
    def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "public.test" else ["10.0.0.5"]

    with pytest.raises(SourceError) as err:
        fetch(f"http://public.test:{server}/redirect", tmp_path / "blob", 1024, resolve=resolve,
              allow=lambda a: a == "127.0.0.1")
    assert "internal.test" in str(err.value) and "10.0.0.5" in str(err.value)


def test_the_default_refuses_loopback_and_size_limits_hold(server: int, tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        fetch(f"http://127.0.0.1:{server}/app.tgz", tmp_path / "blob", 1024)
    assert "127.0.0.1" in str(err.value)
    with pytest.raises(SourceError) as err:
        fetch(f"http://big.test:{server}/big", tmp_path / "blob", 1024 * 1024, resolve=lambda h, p: ["127.0.0.1"],
              allow=lambda a: True)
    assert "over 1 MiB" in str(err.value)
