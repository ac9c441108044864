from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from hoist.git.webhook import ZERO, WebhookError, parse, sign, verify

SHA = "a" * 40


def github(body: bytes, secret: str = "s3cret", event: str = "push") -> dict[str, str]:
    return {"x-github-event": event, "x-github-delivery": "d-1",
            "x-hub-signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_github_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = json.dumps({"ref": "refs/heads/main", "after": SHA}).encode()
    assert verify(github(body), body, "s3cret")
    assert sign("s3cret", body) == github(body)["x-hub-signature-256"]
    assert not verify(github(body, "other"), body, "s3cret")
    assert not verify(github(body), body + b" ", "s3cret")  # any change to the body
    assert not verify({"x-github-event": "push"}, body, "s3cret")  # no signature at all
    assert not verify({"x-hub-signature-256": "sha256="}, body, "s3cret")


def test_gitlab_token_must_equal_the_secret() -> None:
    assert verify({"x-gitlab-token": "s3cret"}, b"{}", "s3cret")
    assert not verify({"x-gitlab-token": "s3cre"}, b"{}", "s3cret")


def test_github_push_and_its_fields() -> None:
    body = json.dumps({"ref": "refs/heads/main", "before": ZERO, "after": SHA.upper(), "forced": True}).encode()
    event = parse(github(body), body)
    assert (event.provider, event.delivery, event.kind, event.branch, event.after, event.forced) == \
        ("github", "d-1", "push", "main", SHA, True)


def test_form_encoded_github_payload() -> None:
    body = urlencode({"payload": json.dumps({"ref": "refs/heads/dev", "after": SHA})}).encode()
    headers = {**github(body), "content-type": "application/x-www-form-urlencoded"}
    assert parse(headers, body).branch == "dev"


def test_gitlab_push_ping_tags_and_other_events() -> None:
    body = json.dumps({"ref": "refs/heads/main", "after": SHA}).encode()
    event = parse({"x-gitlab-event": "Push Hook", "x-gitlab-event-uuid": "u-1", "x-gitlab-token": "t"}, body)
    assert (event.provider, event.delivery, event.kind, event.branch) == ("gitlab", "u-1", "push", "main")
    assert parse(github(b"{}", event="ping"), b"{}").kind == "ping"
    assert parse(github(b"{}", event="issues"), b"{}").kind == "other"
    tag = json.dumps({"ref": "refs/tags/v1", "after": SHA}).encode()
    assert parse(github(tag), tag).kind == "other"


@pytest.mark.parametrize("body, words", [
    (b"not json", "not JSON"),
    (b"[1]", "not a JSON object"),
    (json.dumps({"ref": "refs/heads/main"}).encode(), "no `ref` and `after`"),
    (json.dumps({"ref": "refs/heads/main", "after": "; rm -rf /"}).encode(), "not a commit id"),
])
def test_bad_payloads_say_what_is_wrong(body: bytes, words: str) -> None:
    with pytest.raises(WebhookError, match=words):
        parse(github(body), body)
