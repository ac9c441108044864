"""Drain URLs: the schemes hoist sends to, what each needs, and masking (a drain URL is a secret)."""
from __future__ import annotations

import pytest

from hoist.logs.drain_url import InvalidDrainUrl, mask, parse_drain_url


def test_the_three_schemes() -> None:
    tls = parse_drain_url("syslog+tls://logs.example.com:6514")
    assert (tls.scheme, tls.host, tls.port, tls.tls) == ("syslog+tls", "logs.example.com", 6514, True)
    plain = parse_drain_url("syslog://10.0.0.5:514")
    assert (plain.scheme, plain.port, plain.tls) == ("syslog", 514, False)
    https = parse_drain_url("https://user:secret@logs.example.com/bulk/TOKEN?tag=x")
    assert (https.scheme, https.port, https.tls) == ("https", 443, True)


@pytest.mark.parametrize("url, words", [
    ("ftp://logs.example.com:21", ["'ftp' is not supported", "syslog+tls://"]),
    ("http://logs.example.com/x", ["in the clear", "https://"]),
    ("logs.example.com:514", ["no scheme"]),
    ("syslog+tls://logs.example.com", ["needs a port", ":6514"]),
    ("syslog://logs.example.com:99999", ["port"]),
    ("syslog://:514", ["no host"]),
    ("syslog://u:p@logs.example.com:514", ["no credentials"]),
    ("https://logs.example.com/a b", ["without spaces"]),
    ("", ["Give the drain's URL"]),
])
def test_bad_urls_say_what_to_send(url: str, words: list[str]) -> None:
    with pytest.raises(InvalidDrainUrl) as err:
        parse_drain_url(url)
    for word in words:
        assert word in str(err.value)


def test_not_a_string() -> None:
    with pytest.raises(InvalidDrainUrl):
        parse_drain_url(None)


def test_masked_keeps_scheme_and_host_only() -> None:
    assert mask("https://user:secret@logs.example.com/bulk/TOKEN?tag=x") == "https://***@logs.example.com/***"
    assert mask("https://logs.example.com:8443/") == "https://logs.example.com:8443"
    assert mask("syslog+tls://logs.example.com:6514") == "syslog+tls://logs.example.com:6514"
    assert "secret" not in parse_drain_url("https://:secret@h.example.com/").masked
