"""Signed partner webhooks against a local receiver that verifies them with verify_signature,
as a partner would."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from repairhub.notify.channels import Outgoing, verify_signature
from repairhub.notify.channels.webhook import Webhook
from repairhub.notify.tests.test_channels_base import (
    FakeClock,
    FakeProvider,
    Received,
    refused_url,
    silent_server,
)

NOW = 1_763_700_000.0
SECRET = "whsec-partner-erp"
EVENT = Outgoing(
    key="msg-42",
    to="erp",
    subject="工单已派",
    body="报修单 BX-20251121-0042 已派给维修人员 王师傅。",
    template="workorder.dispatched",
    params={"number": "BX-20251121-0042", "technician": "王师傅"},
)


def receiver(clock: FakeClock, status: int = 204):
    """A partner endpoint: 401 unless the signature verifies, else `status`."""

    def respond(req: Received):
        verified = verify_signature(
            SECRET,
            req.headers["X-RepairHub-Timestamp"],
            req.body,
            req.headers["X-RepairHub-Signature"],
            now=clock(),
        )
        return (status, b"") if verified else (401, {"error": "bad signature"})

    return FakeProvider(respond)


def webhook(url: str, clock: FakeClock, *, secret: str = SECRET, timeout: float = 2.0):
    return Webhook(
        name="partners",
        endpoints={"erp": {"url": url, "secret": secret}},
        timeout=timeout,
        clock=clock,
    )


def test_a_webhook_is_signed_over_timestamp_and_body_and_carries_the_delivery_key():
    clock = FakeClock(NOW)
    with receiver(clock) as server:
        outcome = webhook(server.url, clock).send(EVENT)
    assert (outcome.ok, outcome.detail) == (True, "http_204")
    [req] = server.received
    assert req.headers["X-RepairHub-Delivery"] == "msg-42"
    assert req.headers["X-RepairHub-Timestamp"] == "1763700000"
    expected = hmac.new(SECRET.encode(), b"1763700000." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-RepairHub-Signature"] == f"sha256={expected}"
    assert req.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(req.body) == {
        "id": "msg-42",
        "event": "workorder.dispatched",
        "subject": "工单已派",
        "text": "报修单 BX-20251121-0042 已派给维修人员 王师傅。",
        "data": {"number": "BX-20251121-0042", "technician": "王师傅"},
        "urgent": False,
    }


def test_a_retry_carries_the_same_delivery_key_with_a_fresh_signature():
    clock = FakeClock(NOW)
    with receiver(clock) as server:
        channel = webhook(server.url, clock)
        channel.send(EVENT)
        clock.advance(120)
        channel.send(EVENT)
    first, second = server.received
    assert first.headers["X-RepairHub-Delivery"] == second.headers["X-RepairHub-Delivery"]
    assert first.headers["X-RepairHub-Timestamp"] != second.headers["X-RepairHub-Timestamp"]


def test_a_receiver_refusing_the_signature_is_permanent():
    clock = FakeClock(NOW)
    with receiver(clock) as server:
        outcome = webhook(server.url, clock, secret="rotated").send(EVENT)
    assert (outcome.ok, outcome.retry) == (False, False)
    assert outcome.detail == 'http_401: {"error": "bad signature"}'


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (400, False),
        (404, False),
        (410, False),
        (301, False),
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
    ],
)
def test_receiver_statuses_are_classified(status, retry):
    clock = FakeClock(NOW)
    with FakeProvider(lambda req: (status, b"")) as server:
        outcome = webhook(server.url, clock).send(EVENT)
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, retry, f"http_{status}")


def test_any_2xx_is_delivered():
    clock = FakeClock(NOW)
    with receiver(clock, status=202) as server:
        assert webhook(server.url, clock).send(EVENT).ok


def test_a_hanging_receiver_times_out_and_is_retried():
    with silent_server() as url:
        outcome = webhook(url, FakeClock(NOW), timeout=0.3).send(EVENT)
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, True, "timeout: ReadTimeout")


def test_a_refused_connection_is_retried():
    outcome = webhook(refused_url(), FakeClock(NOW)).send(EVENT)
    assert (outcome.ok, outcome.retry) == (False, True)


def test_an_unknown_partner_is_permanent():
    outcome = webhook("http://127.0.0.1:9/", FakeClock(NOW)).send(
        Outgoing(key="m", to="crm", body="x")
    )
    assert (outcome.ok, outcome.retry, outcome.detail) == (False, False, "unknown_webhook: crm")


# --- verify_signature ---------------------------------------------------------------------

BODY = '{"id":"msg-1","text":"已派单"}'.encode()
GOOD = "sha256=" + hmac.new(SECRET.encode(), b"1763700000." + BODY, hashlib.sha256).hexdigest()


def test_verify_signature_accepts_the_exact_bytes_within_the_tolerance():
    assert verify_signature(SECRET, "1763700000", BODY, GOOD, now=NOW)
    assert verify_signature(SECRET, 1763700000, BODY.decode(), GOOD, now=NOW + 300)
    assert verify_signature(SECRET, "1763700000", BODY, GOOD, now=NOW - 300)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "signature", "now"),
    [
        ("other", "1763700000", BODY, GOOD, NOW),  # wrong secret
        (SECRET, "1763700001", BODY, GOOD, NOW),  # timestamp changed
        (SECRET, "1763700000", BODY + b" ", GOOD, NOW),  # body changed
        (SECRET, "1763700000", BODY, GOOD.removeprefix("sha256="), NOW),  # no scheme
        (SECRET, "1763700000", BODY, GOOD, NOW + 301),  # replayed too late
        (SECRET, "1763700000", BODY, GOOD, NOW - 301),  # from the future
        (SECRET, "yesterday", BODY, GOOD, NOW),  # not a timestamp
    ],
)
def test_verify_signature_refuses(secret, timestamp, body, signature, now):
    assert not verify_signature(secret, timestamp, body, signature, now=now)
