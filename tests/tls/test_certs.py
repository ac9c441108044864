"""Installed-certificate checks and custom-domain names (pure)."""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest

from hoist import names
from hoist.tls.ca import LocalCA
from hoist.tls.certs import CertError, check_pair

def _now() -> dt.datetime:
    # Per call, not at import: certificates are issued with not_before = now - 5 min, and a
    # long test session collects this module many minutes before it runs.
    return dt.datetime.now(dt.timezone.utc)


def _pair(names_: list[str]) -> tuple[bytes, bytes]:
    d = Path(tempfile.mkdtemp())
    ca = LocalCA(d / "ca")
    ca.ensure()
    p = ca.issue(names_, d / "leaf")
    return p.cert.read_bytes(), p.key.read_bytes()


def test_check_pair_accepts_a_matching_pair_and_covers_names() -> None:
    cert, key = _pair(["*.example.com", "example.com"])
    info = check_pair(cert, key, _now())
    assert info.covers("www.example.com") and info.covers("example.com")
    assert not info.covers("a.b.example.com") and not info.covers("example.org")
    assert len(info.fingerprint.split(":")) == 32


def test_check_pair_refuses_with_reasons() -> None:
    cert, key = _pair(["www.example.com"])
    _, other_key = _pair(["www.example.com"])
    with pytest.raises(CertError, match="does not belong"):
        check_pair(cert, other_key, _now())
    with pytest.raises(CertError, match="expired"):
        check_pair(cert, key, _now() + dt.timedelta(days=400))
    with pytest.raises(CertError, match="no PEM certificate"):
        check_pair(key, key, _now())
    with pytest.raises(CertError, match="private key cannot be read"):
        check_pair(cert, cert, _now())


@pytest.mark.parametrize("ok", ["www.example.com", "a-b.example.co.uk", "xn--bcher-kva.example"])
def test_hostname_valid(ok: str) -> None:
    assert names.hostname(ok) == ok


@pytest.mark.parametrize("bad", ["Www.example.com", "*.example.com", "example", "notes.localhost", "localhost",
                                 "1.2.3.4", "-a.example.com", "a..example.com", "a_b.example.com",
                                 "www.example.com.", ("a" * 64) + ".com", ".".join(["abcdefgh"] * 30)])
def test_hostname_invalid(bad: str) -> None:
    with pytest.raises(names.InvalidName, match="not a valid domain"):
        names.hostname(bad)
