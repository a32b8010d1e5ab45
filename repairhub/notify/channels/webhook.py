"""Signed webhooks for partner platforms.

Every attempt is a POST of a JSON body with three headers:

    X-RepairHub-Delivery:  the message's idempotency key, the same on every attempt
    X-RepairHub-Timestamp: Unix seconds when this attempt was signed
    X-RepairHub-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

Signing the timestamp with the body lets a partner refuse replays (`verify_signature`'s
tolerance); the delivery key lets it drop a message it has already processed. 2xx is
delivered; 408, 429 and 5xx are retried; any other status is a permanent refusal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .base import Clock, HttpChannel, Outcome, Outgoing, status_outcome

SIGNATURE_PREFIX = "sha256="


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-RepairHub-Signature value of `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    signature: str,
    *,
    now: float,
    tolerance: int = 300,
) -> bool:
    """Whether a received webhook is ours, unaltered and fresh (for partners and tests).

    `body` must be the raw bytes received, before any JSON parsing; `now` is the receiver's
    Unix time, and a timestamp more than `tolerance` seconds away from it is refused.
    """
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    raw = body.encode() if isinstance(body, str) else body
    return hmac.compare_digest(sign(secret, ts, raw), signature.strip())


class Webhook(HttpChannel):
    """`to` names a partner; `endpoints` maps partner names to {"url": …, "secret": …}."""

    def __init__(
        self,
        *,
        name: str,
        endpoints: Mapping[str, Mapping[str, str]],
        timeout: float | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(name=name, timeout=timeout, clock=clock)
        self.endpoints: dict[str, tuple[str, str]] = {}
        for partner, spec in endpoints.items():
            url, secret = spec.get("url", ""), spec.get("secret", "")
            if not url or not secret:
                raise ImproperlyConfigured(
                    f"NOTIFY_CHANNELS[{name!r}]: webhook {partner!r} needs a url and a secret."
                )
            self.endpoints[partner] = (url, secret)

    @staticmethod
    def body(out: Outgoing) -> bytes:
        document: dict[str, Any] = {
            "id": out.key,
            "event": out.template,
            "subject": out.subject,
            "text": out.body,
            "data": dict(out.params),
            "urgent": out.urgent,
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    def deliver(self, out: Outgoing) -> Outcome:
        endpoint = self.endpoints.get(out.to)
        if endpoint is None:
            return Outcome.failed(f"unknown_webhook: {out.to}", retry=False)
        url, secret = endpoint
        body = self.body(out)
        timestamp = int(self.clock())
        reply = self._request(
            "POST",
            url,
            content=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-RepairHub-Delivery": out.key,
                "X-RepairHub-Timestamp": str(timestamp),
                "X-RepairHub-Signature": sign(secret, timestamp, body),
            },
        )
        if isinstance(reply, Outcome):
            return reply
        if 200 <= reply.status < 300:
            return Outcome.sent(f"http_{reply.status}")
        return status_outcome(reply.status, reply.body[:200].decode(errors="replace"))
