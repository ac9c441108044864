"""hoist's local certificate authority: created on first start under
HOIST_HOME/tls, it signs the certificates hoist serves (the platform host,
*.localhost apps, custom domains without their own certificate, and the
`run` rendezvous). Trust `ca.pem` once and every hoist URL is valid HTTPS."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
LEAF_DAYS = 397


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (0600), in a directory made only for its owner (0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class LocalCA:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    @property
    def cert_path(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def key_path(self) -> Path:
        return self.dir / "ca-key.pem"

    def ensure(self) -> bool:
        """Create the CA if it does not exist; return True if it was created."""
        if self.cert_path.exists() and self.key_path.exists():
            return False
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hoist local CA"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hoist")])
        now = _now()
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        write_private(self.key_path, private_key_pem(key))
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return True

    def issue(self, names: Iterable[str], dest: Path) -> CertPair:
        """Sign a leaf certificate for these DNS names / IP addresses; write cert+key under dest."""
        ca_key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        names = list(dict.fromkeys(names))
        sans: list[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
                           critical=False)
            .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        pair = CertPair(dest / "cert.pem", dest / "key.pem")
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The chain (leaf + CA) so clients that trust the CA can verify it.
        pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + self.cert_path.read_bytes())
        write_private(pair.key, private_key_pem(key))
        return pair


def platform_names(domain: str = "") -> list[str]:
    """Names on the default certificate: the platform host and every *.localhost app."""
    names = ["localhost", "*.localhost", "127.0.0.1", "::1"]
    if domain:
        names += [domain, f"*.{domain}"]
    return names
