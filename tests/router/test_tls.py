"""HTTPS through the real router: local-CA certificates per host, installed
certificates chosen by SNI, forwarded proto, and ACME challenge files."""
from __future__ import annotations

import socket
import ssl
import tempfile
from pathlib import Path
from typing import Callable

from hoist.contracts.router_log import parse_message
from hoist.tls.ca import LocalCA
from tests.router.conftest import RouterProc, app_routes, free_port, wait_port


def start_tls(start_router: Callable[..., RouterProc], routes: dict, home: Path) -> tuple[RouterProc, int]:
    port = free_port()
    r = start_router(routes, "--tls-listen", f"127.0.0.1:{port}", "--ca-dir", str(home / "ca"),
                     "--acme-dir", str(home / "acme"))
    wait_port(port)
    return r, port


def https_get(port: int, host: str, cafile: Path, path: str = "/headers") -> tuple[bytes, dict]:
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            out = b""
            while chunk := s.recv(65536):
                out += chunk
            return out, s.getpeercert() or {}


def test_local_ca_certificate_per_app_host(start_router: Callable[..., RouterProc],
                                           gunicorn: int) -> None:
    home = Path(tempfile.mkdtemp())
    r, port = start_tls(start_router, app_routes("notes", [f"127.0.0.1:{gunicorn}"]), home)
    ca = home / "ca" / "ca.pem"
    out, cert = https_get(port, "notes.localhost", ca)
    assert out.startswith(b"HTTP/1.1 200")
    assert ("DNS", "notes.localhost") in cert["subjectAltName"]
    assert b'"X-Forwarded-Proto":"https"' in out and f'"X-Forwarded-Port":"{port}"'.encode() in out
    assert (home / "ca" / "hosts" / "notes.localhost" / "cert.pem").exists()  # cached on disk
    r.wait(lambda: bool(r.lines))
    kv = parse_message(r.lines[-1].rstrip("\n").partition("\t")[2])
    assert kv["protocol"] == "https" and kv["status"] == "200"
    # The platform host (no SNI match) gets the default certificate.
    _, cert = https_get(port, "localhost", ca, "/")
    assert ("DNS", "localhost") in cert["subjectAltName"]


def test_unknown_sni_gets_no_issued_certificate(start_router: Callable[..., RouterProc]) -> None:
    home = Path(tempfile.mkdtemp())
    _, port = start_tls(start_router, app_routes("notes", []), home)
    ctx = ssl.create_default_context(cafile=str(home / "ca" / "ca.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        try:
            ctx.wrap_socket(raw, server_hostname="evil.localhost")
            raise AssertionError("the default certificate must not be valid for an unknown host")
        except ssl.SSLCertVerificationError:
            pass
    assert not (home / "ca" / "hosts" / "evil.localhost").exists()


def test_installed_certificate_selected_by_sni(start_router: Callable[..., RouterProc],
                                               gunicorn: int) -> None:
    home = Path(tempfile.mkdtemp())
    other = LocalCA(home / "other-ca")  # stands in for a public CA
    other.ensure()
    pair = other.issue(["www.example.com"], home / "installed")
    routes = app_routes("notes", [f"127.0.0.1:{gunicorn}"],
                        app={"hosts": ["notes.localhost", "www.example.com"]})
    routes["tls"] = {"certs": [{"cert": str(pair.cert), "key": str(pair.key)}]}
    r, port = start_tls(start_router, routes, home)
    out, cert = https_get(port, "www.example.com", other.cert_path)
    assert out.startswith(b"HTTP/1.1 200") and ("DNS", "www.example.com") in cert["subjectAltName"]
    # Removing it from the table falls back to a local-CA certificate after SIGHUP.
    del routes["tls"]
    r.write_routes(routes)
    _, cert = https_get(port, "www.example.com", home / "ca" / "ca.pem")
    assert ("DNS", "www.example.com") in cert["subjectAltName"]


def test_acme_challenge_served_for_any_host(start_router: Callable[..., RouterProc],
                                            gunicorn: int) -> None:
    home = Path(tempfile.mkdtemp())
    r, _ = start_tls(start_router, app_routes("notes", [f"127.0.0.1:{gunicorn}"]), home)
    (home / "acme").mkdir()
    (home / "acme" / "tok_EN-1").write_text("tok_EN-1.thumbprint")
    for host in ("notes.localhost", "unknown.example.com"):
        with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
            s.sendall(f"GET /.well-known/acme-challenge/tok_EN-1 HTTP/1.1\r\nHost: {host}\r\n"
                      "Connection: close\r\n\r\n".encode())
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        assert out.startswith(b"HTTP/1.1 200") and out.endswith(b"\r\n\r\ntok_EN-1.thumbprint")
    # Unknown tokens and path tricks go to the app (which 404s), never to the filesystem.
    for token in ("missing", "..%2Fca%2Fca-key.pem", "../ca/ca-key.pem"):
        with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
            s.sendall(f"GET /.well-known/acme-challenge/{token} HTTP/1.1\r\nHost: notes.localhost\r\n"
                      "Connection: close\r\n\r\n".encode())
            out = s.recv(65536)
        assert out.startswith(b"HTTP/1.1 404"), out[:100]
