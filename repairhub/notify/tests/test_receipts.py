"""Receipts (TM6) through post(): reporters, followers, technicians and partner platforms hear
of each step by the channels the engine chose for them."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from repairhub.notify import preferences
from repairhub.notify.channels import verify_signature
from repairhub.notify.models import Message, MessageStatus
from repairhub.notify.tests.test_channels_base import FakeProvider
from repairhub.testing.personas import make_order
from repairhub.workorders.models import Channel
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

SECRET = "whsec-partner"


def told(order, **filters) -> list[tuple[str, str]]:
    rows = Message.objects.filter(order_number=order.number, **filters).order_by("pk")
    return list(rows.values_list("cause", "channel"))


def test_a_reporter_without_account_hears_every_step_by_sms_with_his_tracking_link(world):
    order = make_order(world, Status.DISPATCHED, reporter=None, reporter_phone="13700005555")

    rows = Message.objects.filter(order_number=order.number).order_by("pk")
    sms = [m for m in rows if m.address == "13700005555"]  # addresses are stored encrypted
    assert [(m.cause, m.channel, m.user_id) for m in sms] == [
        ("workorder.submitted", "sms", None),
        ("workorder.accepted", "sms", None),
        ("workorder.dispatched", "sms", None),
    ]
    assert sms[0].body == (
        f"【报修云】您的报修已提交，单号 {order.number}。查看进度：{order.tracking_url}"
    )
    assert sms[2].body == f"【报修云】报修单 {order.number} 已派给维修人员 technician。"
    # The technician has his task at once, in-app and by SMS (his defaults).
    assert told(order, user=world.technician) == [
        ("workorder.assigned", "in_app"),
        ("workorder.assigned", "sms"),
    ]


def test_a_reporter_with_an_account_is_told_by_the_channels_he_chose(world):
    world.reporter.email = "reporter@example.cn"
    world.reporter.save()
    preferences.save_choice(world.reporter, channels={"email"}, quiet_start=None, quiet_end=None)

    order = world.order(Status.ACCEPTED)

    assert told(order, user=world.reporter) == [
        ("workorder.submitted", "in_app"),
        ("workorder.submitted", "email"),
        ("workorder.accepted", "in_app"),
        ("workorder.accepted", "email"),
    ]
    mail = Message.objects.filter(order_number=order.number, channel="email").first()
    assert mail.address == "reporter@example.cn" and order.tracking_url in mail.body


def test_a_partner_order_reaches_the_partners_webhook_signed_and_its_reporter_by_sms(
    world, settings, django_capture_on_commit_callbacks
):
    def verify(req):
        ok = verify_signature(
            SECRET,
            req.headers["X-RepairHub-Timestamp"],
            req.body,
            req.headers["X-RepairHub-Signature"],
            now=time.time(),
        )
        return (204, b"") if ok else (401, b"")

    with FakeProvider(verify) as partner:
        settings.NOTIFY_CHANNELS = {
            **settings.NOTIFY_CHANNELS,
            "partners": {
                "backend": "webhook",
                "endpoints": {"partner": {"url": partner.url, "secret": SECRET}},
            },
        }
        with django_capture_on_commit_callbacks(execute=True):
            order = make_order(
                world,
                Status.SUBMITTED,
                reporter=world.partner,
                channel=Channel.PARTNER,
                reporter_phone="13700006666",
            )

    [request] = partner.received
    document = request.json()
    assert document["event"] == "workorder.submitted"
    assert document["data"]["number"] == order.number
    hook = Message.objects.get(order_number=order.number, channel="webhook")
    assert (hook.status, hook.address, document["id"]) == (MessageStatus.SENT, "partner", hook.key)
    sms = Message.objects.get(order_number=order.number, channel="sms")
    assert (sms.address, sms.user_id, sms.status) == ("13700006666", None, MessageStatus.SENT)


def test_an_urgent_task_wakes_the_technician_a_normal_one_waits_for_his_morning(world):
    preferences.save_choice(
        world.technician, channels={"sms"}, quiet_start=dt.time(22), quiet_end=dt.time(7)
    )
    night = dt.datetime(2026, 11, 23, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(night, tick=False):
        normal = world.order(Status.DISPATCHED, urgency="normal")
        critical = world.order(Status.DISPATCHED, urgency="critical")
    when = {
        order.urgency: Message.objects.get(
            order_number=order.number, cause="workorder.assigned", channel="sms"
        ).next_attempt_at
        for order in (normal, critical)
    }
    assert when == {
        "normal": dt.datetime(2026, 11, 24, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        "critical": night,
    }
