"""Signed capability URLs: the key file is private and made once; a signature covers every part."""
from __future__ import annotations

import shutil
import stat
import tempfile
from pathlib import Path

from hoist.platform.capability import UrlSigner


def test_signatures_verify_only_for_the_same_parts_and_key() -> None:
    d = Path(tempfile.mkdtemp())
    try:
        key = d / "url-key"
        a = UrlSigner(key)
        sig = a.sign("release-output", "app-id", "rel-id")
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert a.verify(sig, "release-output", "app-id", "rel-id")
        assert not a.verify(sig, "release-output", "app-id", "other")
        assert not a.verify(sig, "release-output", "app-idrel-id", "")  # parts are separated, not concatenated
        assert not a.verify(sig[:-1] + ("0" if sig[-1] != "0" else "1"), "release-output", "app-id", "rel-id")
        assert UrlSigner(key).verify(sig, "release-output", "app-id", "rel-id")  # the key survives a restart
        assert not UrlSigner(d / "other-key").verify(sig, "release-output", "app-id", "rel-id")
    finally:
        shutil.rmtree(d)
