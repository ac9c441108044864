"""HTTPS, custom domains, certificates and maintenance mode through a real hoist server."""
from __future__ import annotations

import datetime as dt
import ssl
import subprocess
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hoist.tls.ca import LocalCA
from tests.e2e.harness import HoistServer, example_files, make_repo


def get(server: HoistServer, host: str, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.port}{path}", headers={"Host": host}, timeout=30)


def https(server: HoistServer, host: str, cafile: Path) -> tuple[int, str, dict]:
    """GET / over TLS with SNI = host, verifying against cafile; (status, body, peer cert)."""
    import socket
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            out = b""
            while chunk := s.recv(65536):
                out += chunk
            cert = s.getpeercert() or {}
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace"), cert


def test_https_with_the_local_ca(server: HoistServer, workdir: Path) -> None:
    ca = server.home / "tls" / "ca.pem"
    assert any(str(ca) in line for line in server.output)  # printed on first start
    repo = make_repo(workdir / "web", example_files("hello"), server.env())
    server.cli("apps:create", "web", cwd=repo)
    server.push(repo)
    status, body, cert = https(server, "web.localhost", ca)
    assert status == 200 and body.startswith("Hello from hoist")
    assert ("DNS", "web.localhost") in cert["subjectAltName"]
    # curl with --cacert, as `hoist certs` tells users.
    out = subprocess.run(["curl", "-sS", "--cacert", str(ca), "--resolve", f"web.localhost:{server.tls_port}:127.0.0.1",
                          f"https://web.localhost:{server.tls_port}/"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("Hello from hoist"), out.stderr
    logs = server.cli("logs", "-n", "50", "-a", "web").stdout
    assert any("[router]" in ln and "host=web.localhost" in ln and "status=200" in ln
               for ln in logs.splitlines() if ln.endswith("protocol=https")), logs
    certs = server.cli("certs", "-a", "web").stdout
    assert str(ca) in certs and "update-ca-certificates" in certs and "NODE_EXTRA_CA_CERTS" in certs
    assert "http.sslCAInfo" in certs


def test_domains_add_route_and_conflict(server: HoistServer) -> None:
    server.cli("apps:create", "other")
    out = server.cli("domains:add", "WWW.Example.com", "-a", "web").stdout
    assert "web.localhost" in out  # the DNS target
    listed = server.api("GET", "/apps/web/domains").json()
    kinds = {d["hostname"]: d["kind"] for d in listed}
    assert kinds == {"web.localhost": "heroku", "www.example.com": "custom"}
    custom = [d for d in listed if d["kind"] == "custom"][0]
    assert custom["cname"] == "web.localhost" and custom["app"]["name"] == "web" and custom["status"] == "succeeded"
    assert "www.example.com" in server.cli("domains", "-a", "web").stdout
    # Host with a port, upper case, a trailing dot: still this app.
    for host in ("www.example.com", f"WWW.EXAMPLE.COM:{server.port}", "www.example.com."):
        r = get(server, host)
        assert r.status_code == 200 and r.text.startswith("Hello from hoist"), host
    # A domain is served by exactly one app.
    r = server.api("POST", "/apps/other/domains", json={"hostname": "www.example.com"})
    assert r.status_code == 409 and r.json()["id"] == "conflict"
    r = server.api("POST", "/apps/web/domains", json={"hostname": "www.example.com"})
    assert r.status_code == 422
    for bad in ("*.example.com", "x.localhost", "no_underscores.example.com", "a" * 250 + ".com", "1.2.3.4", "-a.com"):
        r = server.api("POST", "/apps/web/domains", json={"hostname": bad})
        assert r.status_code == 422 and r.json()["id"] == "invalid_params", bad
    proc = server.cli("domains:add", "www.example.com", "-a", "other", check=False)
    assert proc.returncode != 0 and "another app" in proc.stderr
    # The other app's own domain reaches it (H14: no dynos), never web.
    server.cli("domains:add", "api.example.org", "-a", "other")
    r = get(server, "api.example.org")
    assert r.status_code == 503 and "H14" in r.text
    server.cli("domains:remove", "api.example.org", "-a", "other")
    assert get(server, "api.example.org").status_code == 404


def _foreign_cert(tmp: Path, names: list[str], days: int = 90) -> tuple[Path, Path, Path]:
    other = LocalCA(tmp / "public-ca")
    other.ensure()
    pair = other.issue(names, tmp / "issued")
    if days < 0:  # an expired certificate, signed by the same CA
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])).public_key(key.public_key())
                .serial_number(1).not_valid_before(now - dt.timedelta(days=100)).not_valid_after(now + dt.timedelta(days=days))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                .sign(key, hashes.SHA256()))
        (tmp / "old.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (tmp / "old-key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
        return tmp / "old.pem", tmp / "old-key.pem", other.cert_path
    return pair.cert, pair.key, other.cert_path


def test_certs_add_serves_it_by_sni(server: HoistServer, workdir: Path) -> None:
    cert, key, public_ca = _foreign_cert(workdir / "certs", ["www.example.com"])
    # Before: a local-CA certificate for the custom domain.
    status, _, peer = https(server, "www.example.com", server.home / "tls" / "ca.pem")
    assert status == 200 and ("DNS", "www.example.com") in peer["subjectAltName"]
    out = server.cli("certs:add", str(cert), str(key), "--domain", "www.example.com", "-a", "web").stdout
    assert "www.example.com" in out
    status, body, peer = https(server, "www.example.com", public_ca)
    assert status == 200 and body.startswith("Hello from hoist")
    stored = next((server.home / "apps" / "web" / "certs").iterdir())
    assert (stored / "key.pem").stat().st_mode & 0o777 == 0o600
    listing = server.cli("certs", "-a", "web").stdout
    assert "www.example.com" in listing and "Expires" in listing
    d = [x for x in server.api("GET", "/apps/web/domains").json() if x["kind"] == "custom"][0]
    assert d["sni_endpoint"]["name"] == stored.name
    # Bad pairs are refused with a reason.
    _, other_key, _ = _foreign_cert(workdir / "certs2", ["www.example.com"])
    proc = server.cli("certs:add", str(cert), str(other_key), "-a", "web", check=False)
    assert proc.returncode != 0 and "does not belong" in proc.stderr
    old, old_key, _ = _foreign_cert(workdir / "certs3", ["www.example.com"], days=-1)
    proc = server.cli("certs:add", str(old), str(old_key), "-a", "web", check=False)
    assert proc.returncode != 0 and "expired" in proc.stderr
    proc = server.cli("certs:add", str(key), str(key), "-a", "web", check=False)
    assert proc.returncode != 0 and "no PEM certificate" in proc.stderr
    # A certificate installed on another app is never served for this app's domain.
    server.cli("certs:add", str(cert), str(key), "-a", "other")
    assert https(server, "www.example.com", public_ca)[0] == 200


def test_maintenance_on_off(server: HoistServer) -> None:
    server.cli("maintenance:on", "-a", "web")
    assert server.cli("maintenance", "-a", "web").stdout.strip() == "on"
    r = server.app_get("web")
    assert r.status_code == 503 and "maintenance" in r.text.lower()
    server.cli("maintenance:off", "-a", "web")
    assert server.app_get("web").status_code == 200
