"""TM2: the technician is reminded every SUPERVISION_REMIND_HOURS while he holds the order;
the third reminder asks for the result with a link to report it."""

from __future__ import annotations

import pytest

from repairhub.supervision import tasks
from repairhub.supervision.models import Reminder
from repairhub.supervision.services import send_due_reminders
from repairhub.workorders.services import (
    acknowledge_order,
    cancel_order,
    complete_order,
    decline_order,
    hold_order,
    reassign_order,
    record_arrival,
    resume_order,
)
from repairhub.workorders.states import Status

from .conftest import START, bodies, events, supervision_messages, told

pytestmark = pytest.mark.django_db

REMINDER = "supervision.reminder"
RESULT = "supervision.reminder_final"


def run_job() -> None:
    """The minute's periodic job, as the worker runs it (Huey is immediate in tests)."""
    tasks.send_reminders()


def test_first_reminder_comes_one_interval_after_dispatch(world, clock):
    order = world.order(Status.DISPATCHED)
    clock.at(hours=11, minutes=59)
    run_job()
    assert supervision_messages(order) == []
    clock.at(hours=12)
    run_job()
    assert supervision_messages(order) == [(REMINDER, "technician")]
    assert bodies(REMINDER, order) == [
        f"【报修云】第 1 次提醒：工单 {order.number}（水电 → 灯具，东校区 / 3号楼 / 2层 / 201）"
        "尚未完成，请尽快处理。"
    ]
    assert events(order, "workorder.reminded") == [
        {
            "technician": "technician",
            "technician_name": "technician",
            "reminder": 1,
            "asks_result": False,
        }
    ]


def test_the_third_reminder_asks_for_the_result_with_a_link(world, clock, settings):
    order = world.order(Status.DISPATCHED)
    acknowledge_order(order, by=world.technician)  # still his to finish: reminders go on
    for hours in (12, 24, 36):
        clock.at(hours=hours)
        run_job()
    assert supervision_messages(order) == [
        (REMINDER, "technician"),
        (REMINDER, "technician"),
        (RESULT, "technician"),
    ]
    link = f"{settings.SITE_URL}/orders/{order.number}/"
    assert bodies(RESULT, order) == [
        f"【报修云】第 3 次提醒：工单 {order.number}（水电 → 灯具，东校区 / 3号楼 / 2层 / 201）"
        f"派给您已 36 小时仍未完成，请报告维修结果：{link}"
    ]
    assert [e["reminder"] for e in events(order, "workorder.reminded")] == [1, 2, 3]
    assert [e["asks_result"] for e in events(order, "workorder.reminded")] == [False, False, True]
    # The link opens the technician's page of the order.
    from django.test import Client

    page = Client()
    page.force_login(world.technician)
    assert page.get(link.removeprefix(settings.SITE_URL)).status_code == 200


def test_the_interval_is_a_setting(world, clock, settings):
    settings.SUPERVISION_REMIND_HOURS = 2
    order = world.order(Status.DISPATCHED)
    clock.at(hours=1, minutes=59)
    run_job()
    assert told(REMINDER, order) == []
    clock.at(hours=2)
    run_job()
    assert told(REMINDER, order) == ["technician"]


def test_reminders_stop_when_the_order_is_completed(world, clock):
    order = world.order(Status.DISPATCHED)
    clock.at(hours=12)
    run_job()
    assert told(REMINDER, order) == ["technician"]
    clock.at(hours=13)
    acknowledge_order(order, by=world.technician)
    record_arrival(order, by=world.technician)
    complete_order(order, result="success", note="换了灯管", by=world.technician)
    for hours in (24, 36, 48):
        clock.at(hours=hours)
        run_job()
    assert supervision_messages(order) == [(REMINDER, "technician")]
    assert Reminder.objects.get(order=order).next_at is None


@pytest.mark.parametrize("move", ["cancel", "decline"])
def test_reminders_stop_when_the_order_leaves_the_technician(world, clock, move):
    order = world.order(Status.DISPATCHED)
    clock.at(hours=1)
    if move == "cancel":
        cancel_order(order, reason="重复报修", by=world.dispatcher)
    else:
        decline_order(order, reason="不是我的片区", by=world.technician)
    clock.at(hours=12)
    run_job()
    assert supervision_messages(order) == []


def test_reminders_restart_for_the_new_technician_on_reassign(world, clock):
    order = world.order(Status.DISPATCHED)
    clock.at(hours=12)
    run_job()
    clock.at(hours=13)
    reassign_order(order, technician=world.technician2, by=world.dispatcher)
    clock.at(hours=24)
    run_job()  # the first technician's next one would have been due now
    assert supervision_messages(order) == [(REMINDER, "technician")]
    clock.at(hours=25)
    run_job()
    assert supervision_messages(order) == [(REMINDER, "technician"), (REMINDER, "technician2")]
    assert bodies(REMINDER, order)[1].startswith("【报修云】第 1 次提醒：")


def test_reminders_pause_on_hold_and_go_on_after_resuming(world, clock):
    order = world.order(Status.IN_PROGRESS)
    clock.at(hours=1)
    hold_order(order, reason="等配件", by=world.technician)
    clock.at(hours=12)
    run_job()
    assert told(REMINDER, order) == []
    clock.at(hours=20)
    resume_order(order, by=world.technician)
    clock.at(hours=31, minutes=59)
    run_job()
    assert told(REMINDER, order) == []
    clock.at(hours=32)
    run_job()
    assert told(REMINDER, order) == ["technician"]


def test_the_job_runs_once_when_two_workers_run_it_in_one_minute(world, clock, settings):
    settings.SUPERVISION_REMIND_HOURS = 20 / 3600  # every 20 seconds: due again within a minute
    order = world.order(Status.DISPATCHED)  # at 09:00:00
    clock.at(seconds=20)
    run_job()
    assert told(REMINDER, order) == ["technician"]
    clock.at(seconds=45)  # the second reminder is due, but this minute's run is taken
    run_job()
    assert told(REMINDER, order) == ["technician"]
    clock.at(minutes=1, seconds=5)
    run_job()
    assert told(REMINDER, order) == ["technician", "technician"]


def test_a_reminder_already_sent_is_not_sent_again(world, clock):
    """Two runs overlapping across minutes: the second finds the row claimed."""
    order = world.order(Status.DISPATCHED)
    moment = clock.at(hours=12)
    assert send_due_reminders(now=moment) == 1
    assert send_due_reminders(now=moment) == 0
    assert told(REMINDER, order) == ["technician"]


def test_a_worker_down_for_a_day_sends_one_reminder_not_the_missed_ones(world, clock):
    order = world.order(Status.DISPATCHED)
    clock.at(hours=40)
    run_job()
    assert told(REMINDER, order) == ["technician"]
    assert Reminder.objects.get(order=order).next_at == START.replace(day=4, hour=13)
