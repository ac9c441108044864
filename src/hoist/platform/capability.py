"""Capability URLs: a path part signed with a key only hoist can read, for clients that fetch
a URL without their token (the heroku CLI streams `output_stream_url` with a bare GET)."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
SIG_CHARS = 40


class UrlSigner:
    """Signs and checks `parts` with a per-installation key kept in `key_path` (0600, made on first use)."""

    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        self._key: bytes | None = None

    def _load(self) -> bytes:
        if self._key is None:
            try:
                self._key = bytes.fromhex(self.key_path.read_text().strip())
            except FileNotFoundError:
                key = secrets.token_bytes(KEY_BYTES)
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(key.hex())
                self._key = key
        return self._key

    def sign(self, *parts: str) -> str:
        msg = "\0".join(parts).encode()
        return hmac.new(self._load(), msg, hashlib.sha256).hexdigest()[:SIG_CHARS]

    def verify(self, signature: str, *parts: str) -> bool:
        return hmac.compare_digest(self.sign(*parts), signature)
