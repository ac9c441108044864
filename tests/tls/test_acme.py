"""ACME: renewal scheduling and CSRs (pure), and a real order from pebble
(Debian's ACME test server) validated through the real router."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509

from hoist.tls.acme import AcmeError, AcmeIssuer, make_csr, new_key_pem, next_check, renewal_due
from hoist.tls.ca import LocalCA
from hoist.tls.certs import check_pair
from tests.router.conftest import app_routes, free_port, stop, wait_port

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def test_renewal_due_thirty_days_before_expiry() -> None:
    assert renewal_due(None, NOW)
    assert renewal_due(NOW + 30 * DAY, NOW) and renewal_due(NOW - DAY, NOW)
    assert not renewal_due(NOW + 31 * DAY, NOW)


def test_next_check_is_the_earliest_renewal_point_capped() -> None:
    assert next_check([], NOW) == NOW + dt.timedelta(hours=12)
    assert next_check([], NOW, failed=True) == NOW + dt.timedelta(hours=1)
    assert next_check([NOW + 30 * DAY + dt.timedelta(hours=2)], NOW) == NOW + dt.timedelta(hours=2)
    assert next_check([NOW + 90 * DAY, None], NOW) == NOW  # a domain with no certificate: now
    assert next_check([NOW + 10 * DAY], NOW) == NOW  # overdue: now, never in the past


def test_csr_names_the_domains_and_matches_the_key() -> None:
    key = new_key_pem()
    csr = x509.load_pem_x509_csr(make_csr(key, ["www.example.com", "example.com"]))
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com", "example.com"]
    assert csr.is_signature_valid


@pytest.fixture(scope="module")
def pebble() -> Iterator[tuple[str, Path, int]]:
    """pebble + its mock DNS (every name -> 127.0.0.1); validates http-01 on a port we choose."""
    if shutil.which("pebble") is None or shutil.which("pebble-challtestsrv") is None:
        pytest.skip("pebble is not installed (apt-get install pebble)")
    d = Path(tempfile.mkdtemp(prefix="hoist-pebble-"))
    ca = LocalCA(d / "ca")
    ca.ensure()
    pair = ca.issue(["localhost", "127.0.0.1"], d / "tls")
    http_port, acme_port, dns_port, mgmt_port, chall_port = (free_port() for _ in range(5))
    (d / "config.json").write_text(json.dumps({"pebble": {
        "listenAddress": f"127.0.0.1:{acme_port}", "managementListenAddress": f"127.0.0.1:{mgmt_port}",
        "certificate": str(pair.cert), "privateKey": str(pair.key), "httpPort": http_port, "tlsPort": free_port(),
        "ocspResponderURL": "", "externalAccountBindingRequired": False}}))
    dns = subprocess.Popen(["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                            "-dns01", f"127.0.0.1:{dns_port}", "-http01", "", "-https01", "", "-tlsalpn01", "",
                            "-management", f"127.0.0.1:{chall_port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc: subprocess.Popen[bytes] | None = None
    try:
        wait_port(chall_port)  # the mock DNS answers before pebble needs it
        wait_port(dns_port)
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0",
                   PEBBLE_AUTHZREUSE="100")  # deterministic: a valid authorization is always reused
        proc = subprocess.Popen(["pebble", "-config", str(d / "config.json"), "-dnsserver", f"127.0.0.1:{dns_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_port(acme_port)
        yield f"https://127.0.0.1:{acme_port}/dir", ca.cert_path, http_port
    finally:
        if proc is not None:
            stop(proc)
        stop(dns)
        shutil.rmtree(d, ignore_errors=True)


def test_order_from_pebble_validated_through_the_router(pebble: tuple[str, Path, int]) -> None:
    directory, pebble_ca, http_port = pebble
    home = Path(tempfile.mkdtemp(prefix="hoist-acme-"))
    routes = home / "routes.json"
    routes.write_text(json.dumps(app_routes("notes", [],
                                            app={"hosts": ["notes.localhost", "www.example.com"]})))
    router = subprocess.Popen([sys.executable, "-m", "hoist.router", "--listen", f"127.0.0.1:{http_port}",
                               "--routes", str(routes), "--acme-dir", str(home / "challenges")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src")))
    try:
        wait_port(http_port)
        issuer = AcmeIssuer(directory, home / "account.pem", home / "challenges", "ops@example.com",
                            str(pebble_ca), timeout=60)
        chain, key = issuer.issue(["www.example.com"])
        info = check_pair(chain, key, dt.datetime.now(dt.timezone.utc))
        assert info.names == ("www.example.com",) and info.not_after - info.not_before > 5 * DAY
        assert (home / "account.pem").stat().st_mode & 0o777 == 0o600
        assert list((home / "challenges").iterdir()) == []  # challenge files cleaned up
        # A renewal with the same account reuses the valid authorization (no challenge needed).
        chain2, _ = issuer.issue(["www.example.com"])
        assert chain2 != chain
        # Challenge files the router does not read: validation of a new name fails, with the reason.
        elsewhere = AcmeIssuer(directory, home / "account.pem", home / "elsewhere", "", str(pebble_ca), timeout=60)
        with pytest.raises(AcmeError, match="could not validate api.example.com"):
            elsewhere.issue(["api.example.com"])
    finally:
        stop(router)
        shutil.rmtree(home, ignore_errors=True)
