"""ACME (RFC 8555) certificates with HTTP-01 challenges, built on certbot's
`acme` library. The router answers /.well-known/acme-challenge/TOKEN from
the challenge directory this module writes to."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from josepy.jwa import ES256
from josepy.jwk import JWKEC
from acme import challenges, client, crypto_util, errors, messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hoist.tls.ca import private_key_pem, write_private

RENEW_BEFORE = dt.timedelta(days=30)
RETRY_AFTER_FAILURE = dt.timedelta(hours=1)


class AcmeError(Exception):
    """An ACME order that did not produce a certificate; the message says why."""


# ----- pure -----

def renewal_due(not_after: dt.datetime | None, now: dt.datetime, before: dt.timedelta = RENEW_BEFORE) -> bool:
    """True if there is no certificate yet, or it expires within `before`."""
    return not_after is None or not_after - now <= before


def next_check(expiries: Iterable[dt.datetime | None], now: dt.datetime, *,
               before: dt.timedelta = RENEW_BEFORE, most: dt.timedelta = dt.timedelta(hours=12),
               failed: bool = False) -> dt.datetime:
    """When the renewal task should look again: at the earliest renewal point, at most `most` from now."""
    at = now + (RETRY_AFTER_FAILURE if failed else most)
    for exp in expiries:
        due = now if exp is None else exp - before
        at = min(at, max(due, now))
    return at


def new_key_pem() -> bytes:
    return private_key_pem(ec.generate_private_key(ec.SECP256R1()))


def make_csr(key_pem: bytes, names: list[str]) -> bytes:
    """A PEM certificate signing request for these DNS names."""
    return crypto_util.make_csr(key_pem, names)


# ----- I/O -----

@dataclass
class AcmeIssuer:
    """Orders certificates from one ACME directory with one account key (created on first use)."""

    directory_url: str
    account_key: Path
    challenge_dir: Path
    email: str = ""
    ca_bundle: str | None = None  # to trust a test ACME server (pebble)
    timeout: float = 90.0

    def _client(self) -> client.ClientV2:
        if not self.account_key.exists():
            write_private(self.account_key, new_key_pem())
        key = serialization.load_pem_private_key(self.account_key.read_bytes(), None)
        jwk = JWKEC(key=key)
        net = client.ClientNetwork(jwk, alg=ES256, user_agent="hoist",
                                   verify_ssl=self.ca_bundle or True)  # type: ignore[arg-type]
        acme = client.ClientV2(client.ClientV2.get_directory(self.directory_url, net), net=net)
        reg = messages.NewRegistration.from_data(email=self.email or None, terms_of_service_agreed=True)
        try:
            acme.new_account(reg)
        except errors.ConflictError as exc:  # the key already has an account: use it
            net.account = messages.RegistrationResource(uri=exc.location, body=messages.Registration())
        return acme

    def issue(self, names: list[str]) -> tuple[bytes, bytes]:
        """Order a certificate for names; return (fullchain PEM, key PEM). Raises AcmeError."""
        try:
            return self._issue(names)
        except AcmeError:
            raise
        except (errors.Error, messages.Error, OSError, ValueError) as exc:
            raise AcmeError(f"the ACME order for {', '.join(names)} failed: {exc}") from None
        except Exception as exc:  # requests' connection errors and the like
            raise AcmeError(f"the ACME server at {self.directory_url} could not be used: {exc}") from None

    def _issue(self, names: list[str]) -> tuple[bytes, bytes]:
        acme = self._client()
        key_pem = new_key_pem()
        order = acme.new_order(make_csr(key_pem, names))
        written: list[Path] = []
        try:
            for authz in order.authorizations:
                if authz.body.status == messages.STATUS_VALID:
                    continue  # the account proved control recently; the CA reuses that
                challb = next((c for c in authz.body.challenges if isinstance(c.chall, challenges.HTTP01)), None)
                if challb is None:
                    raise AcmeError(f"the ACME server offers no http-01 challenge for "
                                    f"{authz.body.identifier.value}; hoist answers only http-01.")
                response, validation = challb.response_and_validation(acme.net.key)
                path = self.challenge_dir / challb.chall.encode("token")
                self.challenge_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # the router (hoist) serves it
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text(validation)
                os.replace(tmp, path)
                written.append(path)
                acme.answer_challenge(challb, response)
            deadline = dt.datetime.now() + dt.timedelta(seconds=self.timeout)
            try:
                order = acme.poll_and_finalize(order, deadline)
            except errors.ValidationError as exc:
                reasons = "; ".join(str(ch.error) for a in exc.failed_authzrs for ch in a.body.challenges if ch.error)
                raise AcmeError(f"the ACME server could not validate {', '.join(names)}: {reasons or exc}. "
                                "Check that the domain resolves to this machine and port 80 reaches "
                                "hoist's router.") from None
            except errors.TimeoutError:
                raise AcmeError(f"the ACME order for {', '.join(names)} did not finish in "
                                f"{self.timeout:.0f}s; it will be retried.") from None
        finally:
            for path in written:
                path.unlink(missing_ok=True)
        return order.fullchain_pem.encode(), key_pem
