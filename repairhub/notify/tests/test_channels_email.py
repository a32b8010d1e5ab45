"""E-mail through Django's SMTP backend to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from repairhub.notify.channels import Outgoing
from repairhub.notify.channels.email import EmailChannel
from repairhub.notify.tests.test_channels_base import silent_server

DISPATCHED = Outgoing(
    key="msg-42",
    to="wang@example.cn",
    subject="【报修云】报修单 BX-20251121-0042 已派单",
    body="您好：报修单 BX-20251121-0042 已派给维修人员 王师傅，预计 30 分钟内到达。",
)


class Mailbox:
    """An aiosmtpd handler: keeps what it accepts; refuses recipients and data on request."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.refuse_rcpt: dict[str, str] = {}
        self.data_reply = "250 Message accepted for delivery"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply.startswith("250"):
            self.envelopes.append(envelope)
        return self.data_reply


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings) -> Iterator[Mailbox]:
    """A real SMTP server, with Django's SMTP backend pointed at it."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "报修云 <noreply@repairhub.example>"
    try:
        yield mailbox
    finally:
        controller.stop()


def test_the_mail_arrives_with_its_chinese_subject_and_body_intact(smtp):
    outcome = EmailChannel(name="email").send(DISPATCHED)
    assert (outcome.ok, outcome.retry, outcome.detail) == (True, False, "sent")
    [envelope] = smtp.envelopes
    assert envelope.mail_from == "noreply@repairhub.example"
    assert envelope.rcpt_tos == ["wang@example.cn"]
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    # Django folds an encoded subject onto a continuation line; unfolding leaves the space.
    assert received["Subject"].lstrip() == DISPATCHED.subject
    assert received["From"] == "报修云 <noreply@repairhub.example>"
    assert received.get_content().strip() == DISPATCHED.body
    assert received["X-RepairHub-Delivery"] == "msg-42"
    assert received["Message-ID"] == outcome.provider_id


def test_every_attempt_of_a_message_has_the_same_message_id(smtp):
    channel = EmailChannel(name="email")
    first = channel.send(DISPATCHED)
    second = channel.send(DISPATCHED)
    other = channel.send(Outgoing(key="msg-43", to="wang@example.cn", subject="x", body="y"))
    assert first.provider_id == second.provider_id != other.provider_id
    assert first.provider_id.startswith("<msg-42.")
    assert first.provider_id.endswith("@repairhub.example>")


def test_a_refused_recipient_is_permanent(smtp):
    smtp.refuse_rcpt["nobody@example.cn"] = "550 5.1.1 No such user"
    outcome = EmailChannel(name="email").send(
        Outgoing(key="m", to="nobody@example.cn", subject="x", body="y")
    )
    assert (outcome.ok, outcome.retry) == (False, False)
    assert outcome.detail == "recipient_refused: 550 b'5.1.1 No such user'"
    assert smtp.envelopes == []


def test_a_mailbox_that_is_temporarily_unavailable_is_retried(smtp):
    smtp.refuse_rcpt["full@example.cn"] = "452 4.2.2 Mailbox full"
    outcome = EmailChannel(name="email").send(
        Outgoing(key="m", to="full@example.cn", subject="x", body="y")
    )
    assert (outcome.ok, outcome.retry) == (False, True)


@pytest.mark.parametrize(("reply", "retry"), [("451 4.3.0 Try later", True), ("554 Spam", False)])
def test_data_refusals_follow_the_smtp_code(smtp, reply, retry):
    smtp.data_reply = reply
    outcome = EmailChannel(name="email").send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, retry)
    assert outcome.detail.startswith(f"smtp_{reply[:3]}")


def test_a_server_that_is_down_is_retried(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    outcome = EmailChannel(name="email").send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, True)
    assert outcome.detail.startswith("network: ConnectionRefusedError")


def test_a_server_that_never_greets_times_out_and_is_retried(settings):
    with silent_server() as url:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(url.rsplit(":", 1)[1][:-1])
        outcome = EmailChannel(name="email", timeout=0.3).send(DISPATCHED)
    assert (outcome.ok, outcome.retry) == (False, True)
    assert outcome.detail.endswith("timed out")


def test_the_configured_backend_is_used_as_is():
    # pytest-django switches EMAIL_BACKEND to the in-memory one; the channel follows it.
    outcome = EmailChannel(name="email", from_email="ops@repairhub.example").send(DISPATCHED)
    assert outcome.ok
    [sent] = mail.outbox
    assert (sent.subject, sent.to, sent.from_email) == (
        DISPATCHED.subject,
        ["wang@example.cn"],
        "ops@repairhub.example",
    )
