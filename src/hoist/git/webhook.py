"""Push webhooks from GitHub and GitLab: their signatures and their push-event payloads. Pure: no I/O.

GitHub signs the raw body with HMAC-SHA256 and the webhook's secret (`X-Hub-Signature-256: sha256=HEX`);
GitLab sends the secret itself (`X-Gitlab-Token`). Both are compared in constant time, before the body is
parsed."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

ZERO = "0" * 40


class WebhookError(ValueError):
    """The delivery is not a push hoist understands; the message says what was wrong."""


@dataclass(frozen=True)
class PushEvent:
    provider: str  # github | gitlab
    delivery: str  # the delivery's id ("" when the sender gives none)
    kind: str  # push | ping | other
    branch: str = ""
    after: str = ""  # the branch's new head; ZERO when the branch was deleted
    forced: bool = False


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """True when the delivery carries this secret's GitHub signature or GitLab token. Headers: lower-case."""
    signature = headers.get("x-hub-signature-256")
    if signature is not None:
        return hmac.compare_digest(signature.strip().encode(), sign(secret, body).encode())
    token = headers.get("x-gitlab-token")
    if token is not None:
        return hmac.compare_digest(token.encode(), secret.encode())
    return False


def parse(headers: Mapping[str, str], body: bytes) -> PushEvent:
    """A verified delivery's event. Headers: lower-case."""
    if "x-gitlab-event" in headers or "x-gitlab-token" in headers:
        provider = "gitlab"
        delivery = headers.get("x-gitlab-event-uuid") or headers.get("idempotency-key") or ""
        event = headers.get("x-gitlab-event", "")
        kind = "push" if event == "Push Hook" else "other"
    else:
        provider = "github"
        delivery = headers.get("x-github-delivery", "")
        event = headers.get("x-github-event", "")
        kind = {"push": "push", "ping": "ping"}.get(event, "other")
    if kind != "push":
        return PushEvent(provider, delivery, kind)
    data = _payload(headers, body)
    ref, after = data.get("ref"), data.get("after")
    if not isinstance(ref, str) or not isinstance(after, str):
        raise WebhookError("the push payload has no `ref` and `after`; send the push event's JSON as the "
                           "service sends it")
    if not ref.startswith("refs/heads/"):
        return PushEvent(provider, delivery, "other", branch=ref)  # a tag
    after = after.lower()
    if len(after) != 40 or any(c not in "0123456789abcdef" for c in after):
        raise WebhookError(f"the push payload's `after` is {after[:60]!r}, not a commit id")
    return PushEvent(provider, delivery, "push", ref.removeprefix("refs/heads/"), after,
                     bool(data.get("forced")))


def _payload(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """GitHub sends JSON, or a form with `payload=JSON` when the hook's content type is form-encoded."""
    try:
        text = body.decode("utf-8")
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            text = parse_qs(text).get("payload", [""])[0]
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookError("the payload is not JSON; set the webhook's content type to application/json") from None
    if not isinstance(data, dict):
        raise WebhookError("the payload is not a JSON object")
    return data
