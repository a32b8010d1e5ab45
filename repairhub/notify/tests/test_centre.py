"""The notification centre (/notifications/, the header badge, /api/v1/me/notifications), each
person's settings page, and the administrator's message templates."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from repairhub.accounts.services import issue_token
from repairhub.notify import texts
from repairhub.notify.models import Message, MessageTemplate, NotificationPreference
from repairhub.notify.outbox import post

pytestmark = pytest.mark.django_db


def told(user, n: int, number: str = "BX-{}"):
    ids = []
    for i in range(n):
        ids += post([user], "workorder.closed", {"number": number.format(i)})
    return list(Message.objects.filter(pk__in=ids, channel="in_app").order_by("pk"))


def unread(user) -> int:
    return Message.objects.inbox(user).unread().count()


# --- pages ----------------------------------------------------------------------------------


def test_the_inbox_lists_newest_first_highlights_unread_and_the_header_counts_them(client, world):
    first, second, third = told(world.technician, 3)
    told(world.dispatcher, 1, "OTHER-{}")
    Message.objects.filter(pk=first.pk).update(read_at=first.created_at)
    client.force_login(world.technician)

    page = client.get(reverse("notify:inbox")).content.decode()

    assert [int(pk) for pk in re.findall(r'id="m(\d+)"', page)] == [third.pk, second.pk, first.pk]
    assert re.findall(r'class="card nt-item( nt-unread)?" id="m(\d+)"', page) == [
        (" nt-unread", str(third.pk)),
        (" nt-unread", str(second.pk)),
        ("", str(first.pk)),
    ]
    assert "OTHER-0" not in page
    badge = re.search(
        r'class="notify-link" href="/notifications/"[^>]*>消息 <span[^>]*>(\d+)<', page
    )
    assert badge and badge.group(1) == "2"
    # The badge is on every page of a signed-in person.
    home = client.get(reverse("notify:preferences")).content.decode()
    assert 'class="notify-link"' in home


def test_marking_one_and_then_all_read(client, world):
    first, _second = told(world.technician, 2)
    mine_elsewhere = told(world.dispatcher, 1)[0]
    client.force_login(world.technician)

    reply = client.post(reverse("notify:message-read", args=[first.pk]), {"page": "1"})
    assert reply.status_code == 302 and reply["Location"] == "/notifications/?page=1"
    assert unread(world.technician) == 1

    reply = client.post(reverse("notify:read-all"), follow=True)
    assert "已将 1 条消息标为已读。" in reply.content.decode()
    assert unread(world.technician) == 0
    assert unread(world.dispatcher) == 1  # nobody else's
    # Someone else's message: not found, nothing changed.
    assert client.post(reverse("notify:message-read", args=[mine_elsewhere.pk])).status_code == 404
    assert unread(world.dispatcher) == 1
    # Reading needs a POST with the CSRF token.
    assert client.get(reverse("notify:read-all")).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.dispatcher)
    assert strict.post(reverse("notify:read-all")).status_code == 403
    assert unread(world.dispatcher) == 1


def test_the_inbox_needs_a_signed_in_person(client):
    reply = client.get(reverse("notify:inbox"))
    assert reply.status_code == 302 and reply["Location"].startswith("/accounts/login/")


def test_a_person_edits_his_own_channels_and_quiet_hours(client, world):
    client.force_login(world.technician)
    url = reverse("notify:preferences")
    page = client.get(url).content.decode()
    # The defaults of a technician: SMS on, the rest off.
    checked = re.findall(
        r'<input type="checkbox" name="channels" value="(\w+)"[^>]*?( checked)?>', page
    )
    assert checked == [("sms", " checked"), ("email", ""), ("wecom", ""), ("dingtalk", "")]

    reply = client.post(
        url,
        {"channels": ["sms"], "quiet_start": "22:00", "quiet_end": "07:00", "language": "en"},
        follow=True,
    )
    assert "通知设置已保存。" in reply.content.decode()
    row = NotificationPreference.objects.get(user=world.technician)
    assert (row.sms, row.email, row.wecom, row.dingtalk) == (True, False, False, False)
    assert (row.quiet_start, row.quiet_end, row.language) == (dt.time(22), dt.time(7), "en")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"channels": ["email"]}, "您的账号没有登记电子邮箱，无法接收邮件。"),
        ({"channels": ["wecom"]}, "您所在的班组没有配置企业微信群机器人，请联系管理员。"),
        ({"channels": ["fax"]}, "没有“fax”这种通知方式。"),
        ({"quiet_start": "22:00"}, "免打扰时段需要同时填写开始和结束时间，或都留空。"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "免打扰的开始和结束时间不能相同。"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "请填写时间，例如 22:00。"),
    ],
)
def test_bad_settings_are_refused_in_words_and_change_nothing(client, world, data, error):
    client.force_login(world.technician)
    reply = client.post(reverse("notify:preferences"), data)
    assert reply.status_code == 200
    assert error in reply.content.decode()
    assert not NotificationPreference.objects.exists()


# --- API ------------------------------------------------------------------------------------


def api(user) -> Client:
    return Client(headers={"Authorization": f"Bearer {issue_token(user, name='test')}"})


def test_the_api_lists_my_messages_and_marks_them_read(world):
    first, second, third = told(world.technician, 3)
    other = told(world.dispatcher, 1)[0]
    me = api(world.technician)

    out = me.get("/api/v1/me/notifications").json()
    assert out["unread"] == 3
    assert [m["id"] for m in out["items"]] == [third.pk, second.pk, first.pk]
    assert out["items"][0]["body"] == third.body and out["items"][0]["read_at"] is None
    page = me.get("/api/v1/me/notifications", {"before": third.pk, "limit": 1}).json()
    assert [m["id"] for m in page["items"]] == [second.pk]

    def read(body):
        return me.post(
            "/api/v1/me/notifications/read", json.dumps(body), content_type="application/json"
        )

    assert read({"ids": [first.pk]}).json() == {"marked": 1, "unread": 2}
    assert [
        m["id"] for m in me.get("/api/v1/me/notifications", {"unread": True}).json()["items"]
    ] == [
        third.pk,
        second.pk,
    ]
    refused = read({"ids": [second.pk, other.pk]})
    assert refused.status_code == 422
    assert refused.json() == {
        "code": "invalid",
        "message": f"没有这些消息：{other.pk}。",
        "field": "ids",
    }
    assert unread(world.technician) == 2 and unread(world.dispatcher) == 1  # nothing changed
    both = read({"ids": [second.pk], "all": True})
    assert both.status_code == 422 and "二者选一" in both.json()["message"]
    assert read({"all": True}).json() == {"marked": 2, "unread": 0}
    assert Client().get("/api/v1/me/notifications").status_code == 401


# --- message templates in the admin ---------------------------------------------------------


def test_the_admin_rewords_a_template_and_bad_wording_is_refused_in_chinese(client, world):
    client.force_login(world.admin)
    url = reverse("admin:notify_messagetemplate_add")
    base = {"code": "workorder.accepted", "channel": "sms", "language": "zh-hans", "subject": ""}

    for body, error in [
        ("%(number)s 已受理，%(who)s 会来", "未知的占位符：%(who)s。此模板可用："),
        ("%(number)d 已受理", "占位符只能写成 %(…)s 的形式，例如 %(number)s。"),
        ("100% 已受理 %(number)s", "格式有误：百分号请写成 %%，占位符写成 %(number)s 的形式。"),
    ]:
        reply = client.post(url, {**base, "body": body})
        assert reply.status_code == 200
        assert error in reply.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    reply = client.post(url, {**base, "body": "%(number)s 已受理", "sms_template": ":"})
    assert "请填写服务商模板编号" in reply.content.decode()
    assert not MessageTemplate.objects.exists()

    reply = client.post(
        url, {**base, "body": "【报修云】%(number)s 已受理 100%%", "sms_template": "SMS_1:number"}
    )
    assert reply.status_code == 302
    assert texts.render("workorder.accepted", {"number": "BX-1"}, "zh-hans", channel="sms") == (
        "",
        "【报修云】BX-1 已受理 100%",
    )
