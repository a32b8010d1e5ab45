"""The delivery engine: one attempt at a time through the real channels to servers on
127.0.0.1, attempts recorded, exponential backoff, dead letters, robots' rate limit, leases,
and a hanging provider that must not hold up the others."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from repairhub.accounts.roles import Role
from repairhub.lib import periodic
from repairhub.notify import outbox, preferences, services, tasks
from repairhub.notify.channels import Outcome
from repairhub.notify.models import Attempt, Message, MessageChannel, MessageStatus
from repairhub.notify.tests.test_channels_base import FakeProvider, silent_server
from repairhub.testing.personas import make_user

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai, a Monday
SECRET = "whsec-test"


def answering(status: int, body=b""):
    return FakeProvider(lambda req: (status, body))


@pytest.fixture
def partners(settings):
    """partners(name=url, …): webhook endpoints named after partner accounts, which exist."""

    def configure(timeout: float = 2.0, **urls: str):
        settings.NOTIFY_CHANNELS = {
            **settings.NOTIFY_CHANNELS,
            "partners": {
                "backend": "webhook",
                "timeout": timeout,
                "endpoints": {n: {"url": u, "secret": SECRET} for n, u in urls.items()},
            },
        }
        return {n: make_user(n, Role.PARTNER) for n in urls}

    return configure


def webhook_to(account, number: str = "BX-1") -> Message:
    outbox.post([account], "workorder.accepted", {"number": number})
    return Message.objects.filter(channel=MessageChannel.WEBHOOK, user=account).latest("pk")


def fresh(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


def test_a_delivered_message_is_sent_and_its_attempt_recorded(partners):
    with answering(204) as server:
        account = partners(erp=server.url)["erp"]
        message = webhook_to(account)
        outcome = services.deliver(message.pk)
    assert outcome is not None and outcome.ok
    message = fresh(message)
    assert (message.status, message.attempts, message.lease_until) == (MessageStatus.SENT, 1, None)
    assert message.sent_at is not None
    [request] = server.received
    assert request.headers["X-RepairHub-Delivery"] == message.key
    assert request.json()["event"] == "workorder.accepted"
    [attempt] = Attempt.objects.filter(message=message)
    assert (attempt.ok, attempt.detail) == (True, "http_204")
    # Delivered once: asking again sends nothing.
    assert services.deliver(message.pk) is None
    assert len(server.received) == 1


def test_failures_back_off_exponentially_and_the_last_one_makes_a_dead_letter(partners, settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    settings.NOTIFY_RETRY_CAP_SECONDS = 100
    settings.NOTIFY_MAX_ATTEMPTS = 4
    with answering(503, b"busy") as server, time_machine.travel(T0, tick=False) as clock:
        account = partners(erp=server.url)["erp"]
        message = webhook_to(account)
        waits = []
        for _ in range(3):
            assert services.deliver(message.pk).ok is False
            row = fresh(message)
            assert row.status == MessageStatus.PENDING
            waits.append((row.next_attempt_at - dt.datetime.now(dt.UTC)).total_seconds())
            # Not due yet: nothing is sent.
            assert services.deliver(message.pk) is None
            clock.move_to(row.next_attempt_at)
        assert services.deliver(message.pk).ok is False
    assert waits == [30, 60, 100]  # 30 × 2^(n-1), capped at 100
    row = fresh(message)
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.DEAD, 4, "http_503: busy")
    assert len(server.received) == 4
    assert (
        list(Attempt.objects.filter(message=row).values_list("ok", "detail"))
        == [(False, "http_503: busy")] * 4
    )


def test_a_permanent_refusal_is_a_dead_letter_at_once(partners):
    with answering(400, b"unknown event") as server:
        account = partners(erp=server.url)["erp"]
        message = webhook_to(account)
        services.deliver(message.pk)
    row = fresh(message)
    assert (row.status, row.attempts) == (MessageStatus.DEAD, 1)
    assert row.last_error == "http_400: unknown event"


def test_a_robot_over_its_rate_limit_waits_without_using_up_an_attempt(world, settings):
    settings.NOTIFY_TEAM_ROBOTS = {"power-a": "ops"}
    settings.NOTIFY_RATE_LIMIT_RETRY_SECONDS = 10
    with FakeProvider(lambda req: (200, {"errcode": 0, "errmsg": "ok"})) as robot:
        settings.NOTIFY_CHANNELS = {
            **settings.NOTIFY_CHANNELS,
            "wecom": {"backend": "wecom_robot", "rate_limit": 1, "robots": {"ops": robot.url}},
        }
        preferences.save_choice(
            world.technician, channels={"wecom"}, quiet_start=None, quiet_end=None
        )
        with time_machine.travel(T0, tick=False):
            outbox.post([world.technician], "workorder.accepted", {"number": "BX-1"})
            outbox.post([world.technician], "workorder.accepted", {"number": "BX-2"})
            first, second = Message.objects.filter(channel=MessageChannel.WECOM).order_by("pk")
            assert services.deliver(first.pk).ok
            assert services.deliver(second.pk).detail == "rate_limited"
    [request] = robot.received
    assert request.json()["text"]["mentioned_mobile_list"] == ["13900003333"]
    assert first.address == "ops"
    row = fresh(second)
    assert (row.status, row.attempts) == (MessageStatus.PENDING, 0)
    assert row.next_attempt_at == T0 + dt.timedelta(seconds=10)
    assert Attempt.objects.get(message=row).detail == "rate_limited"


def test_a_hanging_partner_costs_one_bounded_wait_and_holds_up_nobody_else(partners):
    with silent_server() as hanging, answering(204) as server:
        accounts = partners(timeout=0.3, slow=hanging, good=server.url)
        ids = [
            webhook_to(accounts[name], f"BX-{n}").pk
            for n, name in enumerate(["slow", "good", "slow", "good", "slow"])
        ]
        sent = services.deliver_many(ids)
    assert sent == 2
    rows = {m.pk: m for m in Message.objects.filter(pk__in=ids)}
    slow = [rows[i] for i in ids if rows[i].address == "slow"]
    good = [rows[i] for i in ids if rows[i].address == "good"]
    assert [m.status for m in good] == [MessageStatus.SENT] * 2
    assert len(server.received) == 2
    # The first slow message timed out and waits for its retry; the other two were not tried
    # in this batch (the sweep takes them), so they used up no attempt.
    assert slow[0].attempts == 1 and slow[0].last_error.startswith("timeout")
    assert [(m.status, m.attempts) for m in slow[1:]] == [(MessageStatus.PENDING, 0)] * 2
    assert not Attempt.objects.filter(message__in=slow[1:]).exists()


def test_a_claimed_message_is_left_alone_until_its_lease_runs_out(partners, settings):
    settings.NOTIFY_LEASE_SECONDS = 60
    with answering(204) as server, time_machine.travel(T0, tick=False) as clock:
        account = partners(erp=server.url)["erp"]
        message = webhook_to(account)
        # Another worker claimed it a moment ago and is still sending.
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENDING, lease_until=T0 + dt.timedelta(seconds=60)
        )
        assert services.deliver(message.pk) is None
        assert services.sweep() == 0
        assert server.received == []
        clock.move_to(T0 + dt.timedelta(seconds=61))  # that worker died: the sweep takes over
        assert services.sweep() == 1
    assert fresh(message).status == MessageStatus.SENT
    assert [r.headers["X-RepairHub-Delivery"] for r in server.received] == [message.key]


def test_held_messages_wait_and_in_app_rows_written_directly_are_marked_sent(world, partners):
    with answering(204) as server, time_machine.travel(T0, tick=False) as clock:
        account = partners(erp=server.url)["erp"]
        later = webhook_to(account)
        Message.objects.filter(pk=later.pk).update(next_attempt_at=T0 + dt.timedelta(hours=1))
        stored = Message.objects.create(
            channel=MessageChannel.IN_APP, user=world.dispatcher, cause="x", body="无人可派"
        )
        assert services.sweep() == 1
        assert fresh(stored).status == MessageStatus.SENT
        assert fresh(later).status == MessageStatus.PENDING and server.received == []
        clock.move_to(T0 + dt.timedelta(hours=1))
        assert services.sweep() == 1
    assert fresh(later).status == MessageStatus.SENT


def test_a_channel_that_is_not_configured_makes_a_dead_letter_saying_so(world):
    message = Message.objects.create(
        channel=MessageChannel.DINGTALK, user=world.technician, address="ops", cause="x", body="y"
    )
    services.deliver(message.pk)
    row = fresh(message)
    assert row.status == MessageStatus.DEAD
    assert row.last_error.startswith("channel_not_configured: No notification channel named")


def test_the_sweep_runs_once_a_minute_however_many_workers_run(world, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(periodic.Clock, "now", staticmethod(lambda: now[0]))

    def stored():
        return Message.objects.create(
            channel=MessageChannel.IN_APP, user=world.dispatcher, cause="x", body="y"
        )

    first = stored()
    tasks.sweep_outbox.call_local()
    second = stored()
    tasks.sweep_outbox.call_local()  # another worker, same minute: skipped
    assert (fresh(first).status, fresh(second).status) == (
        MessageStatus.SENT,
        MessageStatus.PENDING,
    )
    now[0] += 60
    tasks.sweep_outbox.call_local()
    assert fresh(second).status == MessageStatus.SENT


def test_the_admin_lists_dead_letters_and_sends_them_again_keeping_their_history(
    client, world, partners
):
    with answering(400) as server:
        account = partners(erp=server.url)["erp"]
        dead = webhook_to(account, "BX-DEAD")
        services.deliver(dead.pk)
    alive = webhook_to(account, "BX-ALIVE")
    client.force_login(world.admin)
    url = reverse("admin:notify_message_changelist")

    listing = client.get(url, {"dead": "yes"}).content.decode()
    assert "BX-DEAD" in listing and "BX-ALIVE" not in listing
    assert f'value="{dead.pk}"' in listing and f'value="{alive.pk}"' not in listing
    page = client.get(reverse("admin:notify_message_change", args=[dead.pk])).content.decode()
    assert "http_400" in page  # the attempt inline

    reply = client.post(
        url,
        {"action": "resend", "_selected_action": [dead.pk, alive.pk]},
        follow=True,
    )
    text = reply.content.decode()
    assert "已将 1 条失败的消息重新排队发送。" in text
    assert "1 条消息不是发送失败状态，未作改动。" in text
    row = fresh(dead)
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.PENDING, 0, "")
    assert Attempt.objects.filter(message=row).count() == 1  # history kept
    assert fresh(alive).status == MessageStatus.PENDING and fresh(alive).attempts == 0


def test_a_worker_that_lost_its_lease_records_its_attempt_but_leaves_the_message_alone(
    partners, settings
):
    settings.NOTIFY_LEASE_SECONDS = 60
    with answering(204) as server, time_machine.travel(T0, tick=False) as clock:
        message = webhook_to(partners(erp=server.url)["erp"])
        slow = services.claim(message.pk, T0, T0 + dt.timedelta(seconds=60))
        clock.move_to(T0 + dt.timedelta(seconds=61))  # the first worker hung past its lease …
        later = T0 + dt.timedelta(seconds=61)
        taken = services.claim(message.pk, later, later + dt.timedelta(seconds=60))
        assert taken is not None and taken.lease_until == later + dt.timedelta(seconds=60)
        # … and now reports its failure: recorded, but the second worker decides.
        services.settle(slow, T0 + dt.timedelta(seconds=60), Outcome.failed("x", retry=False), T0)
        row = fresh(message)
        assert (row.status, row.attempts) == (MessageStatus.SENDING, 0)
        assert row.lease_until == later + dt.timedelta(seconds=60)
        services.settle(taken, row.lease_until, Outcome.sent("http_204"), later)
    row = fresh(message)
    assert (row.status, row.attempts) == (MessageStatus.SENT, 1)
    assert list(Attempt.objects.filter(message=row).values_list("ok", "detail")) == [
        (False, "x"),
        (True, "http_204"),
    ]
