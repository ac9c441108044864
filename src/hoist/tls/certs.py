"""Installed certificates: check a certificate + key pair (pure) and keep it
on disk under HOIST_HOME/tls/certs/APP/NAME/ with the key at mode 0600."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from hoist.tls.ca import write_private

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.S)


class CertError(ValueError):
    """A certificate or key that cannot be installed; the message says why and what to do."""


@dataclass(frozen=True)
class CertInfo:
    names: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    issuer: str
    subject: str
    fingerprint: str  # SHA-256, upper-case hex with colons, as Heroku shows it

    def covers(self, host: str) -> bool:
        """True if one of the certificate's names matches host (a wildcard covers one label)."""
        for name in self.names:
            if name == host or (name.startswith("*.") and host.split(".", 1)[-1] == name[2:]
                                and host.count(".") == name.count(".")):
                return True
        return False


def describe(cert: x509.Certificate) -> CertInfo:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = tuple(n.lower() for n in san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = ()
    fp = cert.fingerprint(hashes.SHA256()).hex().upper()
    return CertInfo(names, cert.not_valid_before_utc, cert.not_valid_after_utc, cert.issuer.rfc4514_string(),
                    cert.subject.rfc4514_string(), ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)))


def check_pair(chain_pem: bytes, key_pem: bytes, now: dt.datetime) -> CertInfo:
    """Parse a PEM chain (leaf first) and its private key; raise CertError unless they match and are valid now."""
    blocks = _PEM_CERT.findall(chain_pem)
    if not blocks:
        raise CertError("The certificate file has no PEM certificate (-----BEGIN CERTIFICATE-----). "
                        "Pass the certificate chain in PEM form, leaf first.")
    try:
        leaf = x509.load_pem_x509_certificate(blocks[0])
    except ValueError as exc:
        raise CertError(f"The certificate cannot be parsed ({exc}). Pass a PEM certificate chain.") from None
    try:
        key = serialization.load_pem_private_key(key_pem, None)
    except (ValueError, TypeError) as exc:
        raise CertError(f"The private key cannot be read ({exc}). Pass an unencrypted PEM private key "
                        "(decrypt it with `openssl pkey -in KEY -out KEY.plain`).") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != \
            leaf.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise CertError("The private key does not belong to the certificate. Pass the key the "
                        "certificate was issued for (and the leaf certificate first in the chain).")
    info = describe(leaf)
    if info.not_after <= now:
        raise CertError(f"The certificate expired on {info.not_after:%Y-%m-%d}. Renew it, or use "
                        "`hoist certs:auto:enable` for automatic certificates.")
    if info.not_before > now:
        raise CertError(f"The certificate is not valid until {info.not_before:%Y-%m-%d %H:%M} UTC; "
                        "check the clock, or install it then.")
    if not info.names:
        raise CertError("The certificate names no DNS host (no subjectAltName). Issue it with the "
                        "domain in its subject alternative names.")
    return info


@dataclass(frozen=True)
class StoredCert:
    dir: Path

    @property
    def cert(self) -> Path:
        return self.dir / "cert.pem"

    @property
    def key(self) -> Path:
        return self.dir / "key.pem"

    def info(self) -> CertInfo:
        return describe(x509.load_pem_x509_certificate(self.cert.read_bytes()))


def save(dest: Path, chain_pem: bytes, key_pem: bytes) -> StoredCert:
    """Write the pair (key 0600); a replaced pair is written beside and renamed in, so readers never see half."""
    stored = StoredCert(dest)
    stored.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp_key, tmp_cert = stored.dir / "key.pem.tmp", stored.dir / "cert.pem.tmp"
    write_private(tmp_key, key_pem)
    tmp_cert.write_bytes(chain_pem)
    tmp_key.replace(stored.key)
    tmp_cert.replace(stored.cert)
    return stored
