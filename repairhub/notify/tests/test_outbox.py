"""post(): which channels each person gets, quiet hours, texts reworded by the administrator,
and SMS kept within the provider's length."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from repairhub.notify import outbox, preferences, texts
from repairhub.notify.models import Message, MessageStatus, MessageTemplate
from repairhub.notify.outbox import Recipient, post
from repairhub.notify.services import _outgoing

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = dt.datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI)
ACCEPTED = {"number": "BX-20261123-0001", "url": "http://x/t/abc"}


def routes(ids):
    return sorted(
        Message.objects.filter(pk__in=ids).values_list("channel", "address", "status"),
        key=str,
    )


@pytest.fixture
def queued(monkeypatch):
    """The ids handed to the queue after commit."""
    calls: list[list[int]] = []
    monkeypatch.setattr(outbox, "_enqueue", calls.append)
    return calls


def test_staff_get_in_app_and_sms_and_people_without_accounts_sms_or_email(
    world, django_capture_on_commit_callbacks, queued
):
    with django_capture_on_commit_callbacks(execute=True):
        staff = post([world.technician], "workorder.accepted", ACCEPTED)
        phone_only = post([Recipient(phone="13700001234")], "workorder.accepted", ACCEPTED)
        mail_only = post([Recipient(email="a@example.cn")], "workorder.accepted", ACCEPTED)
        no_phone = post([world.dispatcher], "workorder.accepted", ACCEPTED)
    assert routes(staff) == [
        ("in_app", "", MessageStatus.SENT),  # delivered by being stored
        ("sms", "13900003333", MessageStatus.PENDING),
    ]
    assert routes(phone_only) == [("sms", "13700001234", MessageStatus.PENDING)]
    assert routes(mail_only) == [("email", "a@example.cn", MessageStatus.PENDING)]
    assert routes(no_phone) == [("in_app", "", MessageStatus.SENT)]
    # Only what waits for a channel is queued, each post after its commit.
    assert [sorted(c) for c in queued] == [
        [i for i in staff if Message.objects.get(pk=i).channel == "sms"],
        phone_only,
        mail_only,
    ]


def test_each_person_chooses_his_channels_and_robots_speak_to_his_team(world, settings):
    settings.NOTIFY_CHANNELS = {
        **settings.NOTIFY_CHANNELS,
        "dingtalk": {"backend": "dingtalk_robot", "robots": {"power": "http://127.0.0.1:9/"}},
    }
    settings.NOTIFY_TEAM_ROBOTS = {"power-a": "power"}
    world.technician.email = "tech@example.cn"
    world.technician.save()
    for user in (world.technician, world.technician2):
        preferences.save_choice(
            user, channels={"email", "dingtalk"}, quiet_start=None, quiet_end=None
        )
    ids = post([world.technician, world.technician2], "workorder.accepted", ACCEPTED)
    by_user = {
        u: sorted(Message.objects.filter(pk__in=ids, user=u).values_list("channel", "address"))
        for u in (world.technician, world.technician2)
    }
    assert by_user[world.technician] == [
        ("dingtalk", "power"),
        ("email", "tech@example.cn"),
        ("in_app", ""),
    ]
    # technician2 has no team with a robot and no e-mail address: in-app only.
    assert by_user[world.technician2] == [("in_app", "")]
    mail = Message.objects.get(pk__in=ids, channel="email")
    assert mail.subject == f"【报修云】报修单 {ACCEPTED['number']} 已受理，我们会尽快安排维修人员。"
    robot = Message.objects.select_related("user").get(pk__in=ids, channel="dingtalk")
    assert _outgoing(robot).mentions == ("mobile:13900003333",)


def test_internal_notices_stay_in_the_notification_centre(world):
    ids = post(
        [world.technician],
        "workorder.change_rejected",
        {"number": "BX-1", "kind": "变更措施", "reason": "不行"},
    )
    assert routes(ids) == [("in_app", "", MessageStatus.SENT)]


def test_partners_get_a_webhook_when_an_endpoint_bears_their_name(world, settings):
    assert routes(post([world.partner], "workorder.accepted", ACCEPTED)) == [
        ("in_app", "", MessageStatus.SENT)
    ]
    settings.NOTIFY_CHANNELS = {
        **settings.NOTIFY_CHANNELS,
        "partners": {
            "backend": "webhook",
            "endpoints": {"partner": {"url": "http://127.0.0.1:9/", "secret": "s"}},
        },
    }
    assert routes(post([world.partner], "workorder.accepted", ACCEPTED)) == [
        ("in_app", "", MessageStatus.SENT),
        ("webhook", "partner", MessageStatus.PENDING),
    ]


def test_quiet_hours_hold_everything_but_in_app_and_urgent_messages_until_they_end(
    world, settings, django_capture_on_commit_callbacks, queued
):
    settings.NOTIFY_QUIET_HOURS = (dt.time(22, 0), dt.time(7, 0))
    preferences.save_choice(
        world.technician,
        channels={"sms"},
        quiet_start=dt.time(21, 0),
        quiet_end=dt.time(6, 30),
    )
    with (
        time_machine.travel(NIGHT, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        held = post([world.technician], "workorder.accepted", ACCEPTED)
        urgent = post([world.technician], "workorder.accepted", ACCEPTED, urgent=True)
        stranger = post([Recipient(phone="13700001234")], "workorder.accepted", ACCEPTED)
    when = dict(
        Message.objects.filter(pk__in=held + urgent + stranger).values_list("pk", "next_attempt_at")
    )
    sms_held, sms_urgent = (
        Message.objects.get(pk__in=ids, channel="sms").pk for ids in (held, urgent)
    )
    morning = dt.datetime(2026, 11, 24, 6, 30, tzinfo=SHANGHAI)
    assert when[sms_held] == morning  # his own quiet hours
    assert when[stranger[0]] == dt.datetime(2026, 11, 24, 7, 0, tzinfo=SHANGHAI)  # the default
    assert when[sms_urgent] == NIGHT
    assert Message.objects.get(pk__in=held, channel="in_app").status == MessageStatus.SENT
    assert queued == [[sms_urgent]]


@pytest.mark.parametrize(
    ("at", "quiet", "until"),
    [
        (dt.time(13, 0), (dt.time(12, 0), dt.time(14, 0)), dt.datetime(2026, 11, 23, 14, 0)),
        (dt.time(15, 0), (dt.time(12, 0), dt.time(14, 0)), None),
        (dt.time(23, 0), (dt.time(22, 0), dt.time(7, 0)), dt.datetime(2026, 11, 24, 7, 0)),
        (dt.time(6, 0), (dt.time(22, 0), dt.time(7, 0)), dt.datetime(2026, 11, 23, 7, 0)),
        (dt.time(7, 0), (dt.time(22, 0), dt.time(7, 0)), None),
        (dt.time(3, 0), (dt.time(3, 0), dt.time(3, 0)), None),
        (dt.time(3, 0), None, None),
    ],
)
def test_quiet_periods_may_run_over_midnight(at, quiet, until):
    now = dt.datetime.combine(dt.date(2026, 11, 23), at, tzinfo=SHANGHAI)
    expected = until.replace(tzinfo=SHANGHAI) if until else None
    assert preferences.quiet_until(now, quiet) == expected


def test_the_administrators_wording_wins_per_channel_and_language(world):
    MessageTemplate.objects.create(
        code="workorder.accepted",
        channel="sms",
        language="zh-hans",
        body="【报修云】%(number)s 受理了，进度：%(url)s",
        sms_template="SMS_9:number,url",
    )
    MessageTemplate.objects.create(
        code="workorder.accepted", channel="", language="en", body="Got it: %(number)s"
    )
    ids = post([world.technician], "workorder.accepted", ACCEPTED)
    sms = Message.objects.get(pk__in=ids, channel="sms")
    app = Message.objects.get(pk__in=ids, channel="in_app")
    assert sms.body == "【报修云】BX-20261123-0001 受理了，进度：http://x/t/abc"
    assert app.body == "【报修云】报修单 BX-20261123-0001 已受理，我们会尽快安排维修人员。"
    assert _outgoing(sms).provider_template == "SMS_9:number,url"
    assert _outgoing(app).provider_template == ""

    preferences.save_choice(
        world.technician2, channels=set(), quiet_start=None, quiet_end=None, language="en"
    )
    [english] = post([world.technician2], "workorder.accepted", ACCEPTED)
    assert Message.objects.get(pk=english).body == "Got it: BX-20261123-0001"
    # Without a row for English, the registered text is translated.
    [rejected] = post(
        [Recipient(phone="13700001234", language="en")],
        "workorder.rejected",
        {"number": "BX-1", "reason": "重复"},
    )
    assert Message.objects.get(pk=rejected).body.startswith("[RepairHub]")


def test_an_sms_is_kept_within_the_limit_by_shortening_the_description_never_the_link(
    world, settings, monkeypatch
):
    settings.NOTIFY_SMS_MAX_CHARS = 130
    text = texts.Text("【报修云】%(number)s %(place)s：%(description)s 详情：%(url)s")
    monkeypatch.setitem(texts.TEXTS, "test.long", text)
    description = "灯管闪烁" * 40
    params = {
        "number": "BX-20261123-0001",
        "place": "东校区 / 3号楼 / 2层 / 201",
        "description": description,
        "url": "http://repair.example.cn/t/" + "a" * 32,
    }
    ids = post([world.technician], "test.long", params)
    sms = Message.objects.get(pk__in=ids, channel="sms")
    app = Message.objects.get(pk__in=ids, channel="in_app")
    assert len(sms.body) == 130
    assert sms.body.endswith("详情：" + params["url"])
    assert sms.params["url"] == params["url"] and sms.params["number"] == params["number"]
    assert sms.params["place"] == params["place"]
    assert sms.params["description"].endswith("…")
    assert len(sms.params["description"]) < len(description)
    assert description in app.body  # the notification centre has room for all of it
