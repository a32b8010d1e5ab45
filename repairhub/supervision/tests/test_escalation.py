"""TM4: a breach or repeated urging tells the team lead; still unresolved after a wait, the
managers. One level once per order; done orders resolve the ladder."""

from __future__ import annotations

import pytest

from repairhub.notify.models import Message
from repairhub.supervision import tasks
from repairhub.supervision.models import Escalation, Level, Reason
from repairhub.supervision.services import escalate_to_managers
from repairhub.workorders.access import order_for_token
from repairhub.workorders.lifecycle import record_event
from repairhub.workorders.services import complete_order, perform
from repairhub.workorders.states import Action, Status

from .conftest import START, bodies, events, supervision_messages, told

pytestmark = pytest.mark.django_db

BREACH_COMPLETE = "supervision.breach_complete"
MANAGER = "supervision.manager"


def breach(order, clock: str = "complete", due=START):
    return record_event(
        order, "workorder.sla_breached", data={"clock": clock, "due_at": due.isoformat()}
    )


def ladder(order) -> list[tuple[int, str, bool]]:
    return [
        (e.level, e.reason, e.resolved_at is not None)
        for e in Escalation.objects.filter(order=order).order_by("level", "id")
    ]


def run_job() -> None:
    tasks.escalate_to_managers()


def test_a_breach_tells_the_team_lead_at_once_and_urgently(world, clock):
    order = world.order(Status.IN_PROGRESS)  # technician, of team_lead's team
    moment = clock.at(hours=2)
    breach(order)
    assert ladder(order) == [(Level.TEAM_LEAD, Reason.SLA_BREACH, False)]
    escalation = Escalation.objects.get(order=order)
    assert (escalation.clock, escalation.notified, escalation.raised_at) == (
        "complete",
        ["team_lead"],
        moment,
    )
    assert supervision_messages(order) == [(BREACH_COMPLETE, "team_lead")]
    assert bodies(BREACH_COMPLETE, order) == [
        f"【报修云】督办：工单 {order.number}（水电 → 灯具，东校区 / 3号楼 / 2层 / 201）"
        "超过完成时限 03-02 09:00 仍未完成，维修人员：technician，请跟进。"
    ]
    assert set(Message.objects.filter(cause=BREACH_COMPLETE).values_list("urgent", flat=True)) == {
        True
    }
    assert events(order, "workorder.supervised") == [
        {
            "level": 1,
            "cause": "sla_breach",
            "clock": "complete",
            "due_at": START.isoformat(),
            "notified": ["team_lead"],
        }
    ]


def test_a_breach_of_an_unassigned_order_tells_the_dispatchers(world, clock):
    order = world.order(Status.SUBMITTED)
    clock.at(minutes=20)
    breach(order, clock="accept")
    assert supervision_messages(order) == [("supervision.breach_accept", "dispatcher")]


def test_a_technician_without_a_lead_escalates_to_the_dispatchers(world, clock):
    order = world.order(Status.DISPATCHED, technician=world.technician2)  # no team
    breach(order, clock="arrive")
    assert supervision_messages(order) == [("supervision.breach_arrive", "dispatcher")]


def test_the_same_level_is_not_raised_twice(world, clock):
    order = world.order(Status.IN_PROGRESS)
    breach(order, clock="arrive")
    clock.at(minutes=30)
    breach(order, clock="complete")
    assert ladder(order) == [(Level.TEAM_LEAD, Reason.SLA_BREACH, False)]
    assert supervision_messages(order) == [("supervision.breach_arrive", "team_lead")]
    assert len(events(order, "workorder.supervised")) == 1


def test_still_unresolved_after_the_wait_the_managers_are_told(world, clock):
    order = world.order(Status.IN_PROGRESS)
    breach(order)
    clock.at(minutes=119)
    run_job()
    assert told(MANAGER, order) == []
    clock.at(minutes=120)
    run_job()
    assert ladder(order) == [
        (Level.TEAM_LEAD, Reason.SLA_BREACH, False),
        (Level.MANAGER, Reason.UNRESOLVED, False),
    ]
    assert told(MANAGER, order) == ["manager"]
    assert bodies(MANAGER, order) == [
        f"【报修云】督办升级：工单 {order.number}（水电 → 灯具，东校区 / 3号楼 / 2层 / 201）"
        "督办 120 分钟后仍未解决，当前状态：维修中，维修人员：technician，请及时处理。"
    ]
    assert set(Message.objects.filter(cause=MANAGER).values_list("urgent", flat=True)) == {True}
    assert events(order, "workorder.supervised")[1] == {
        "level": 2,
        "cause": "unresolved",
        "notified": ["manager"],
    }
    # Later runs, and another breach, raise nothing more.
    clock.at(hours=5)
    run_job()
    breach(order, clock="complete")
    assert told(MANAGER, order) == ["manager"]
    assert len(ladder(order)) == 2


def test_the_manager_wait_is_a_setting(world, clock, settings):
    settings.SUPERVISION_MANAGER_AFTER_MINUTES = 30
    order = world.order(Status.IN_PROGRESS)
    breach(order)
    clock.at(minutes=30)
    run_job()
    assert told(MANAGER, order) == ["manager"]


def test_level_two_is_raised_once_when_two_workers_run_the_job(world, clock):
    order = world.order(Status.IN_PROGRESS)
    breach(order)
    moment = clock.at(minutes=120)
    run_job()
    run_job()  # the same minute on another worker: the period is taken
    assert escalate_to_managers(now=moment) == 0  # an overlapping run finds the row claimed
    assert told(MANAGER, order) == ["manager"]


def test_completion_resolves_the_ladder_and_stops_the_climb(world, clock):
    order = world.order(Status.IN_PROGRESS)
    breach(order)
    moment = clock.at(minutes=60)
    complete_order(order, result="success", note="换了灯管", by=world.technician)
    assert ladder(order) == [(Level.TEAM_LEAD, Reason.SLA_BREACH, True)]
    assert Escalation.objects.get(order=order).resolved_at == moment
    clock.at(minutes=120)
    run_job()
    assert told(MANAGER, order) == []


def test_a_breach_after_completion_raises_nothing(world, clock):
    order = world.order(Status.COMPLETED)
    breach(order, clock="complete")
    assert ladder(order) == []
    assert supervision_messages(order) == []


def test_repeated_urging_tells_the_team_lead(world, clock):
    order = world.order(Status.ACKNOWLEDGED)
    holder = order_for_token(order.tracking_token)[1]
    clock.at(minutes=30)
    perform(order, Action.URGE, by=holder)
    assert ladder(order) == []  # one urge: technician and dispatchers only
    clock.at(minutes=60)
    perform(order, Action.URGE, by=holder)
    assert ladder(order) == [(Level.TEAM_LEAD, Reason.URGES, False)]
    assert told("supervision.urges", order) == ["team_lead"]
    assert bodies("supervision.urges", order) == [
        f"【报修云】督办：工单 {order.number}（水电 → 灯具，东校区 / 3号楼 / 2层 / 201）"
        "报修人已催单 2 次，当前状态：已接单，维修人员：technician，请跟进。"
    ]
    assert set(
        Message.objects.filter(cause="supervision.urges").values_list("urgent", flat=True)
    ) == {True}
    assert events(order, "workorder.supervised") == [
        {"level": 1, "cause": "urges", "urge_count": 2, "notified": ["team_lead"]}
    ]
    # A third urge: technician and dispatchers again, the lead not twice.
    clock.at(minutes=90)
    perform(order, Action.URGE, by=holder)
    assert told("supervision.urges", order) == ["team_lead"]
    # Two hours after the lead heard, the managers do.
    clock.at(hours=3)
    run_job()
    assert told(MANAGER, order) == ["manager"]


def test_the_urges_that_escalate_are_a_setting(world, clock, settings):
    settings.SUPERVISION_ESCALATE_URGES = 1
    order = world.order(Status.ACCEPTED)  # unassigned: the dispatchers hear
    clock.at(minutes=30)
    perform(order, Action.URGE, by=world.reporter)
    assert ladder(order) == [(Level.TEAM_LEAD, Reason.URGES, False)]
    assert told("supervision.urges", order) == ["dispatcher"]


def test_a_reopened_order_can_climb_again(world, clock):
    order = world.order(Status.IN_PROGRESS)
    breach(order)
    complete_order(order, result="success", note="换了灯管", by=world.technician)
    perform(order, Action.REOPEN, by=world.reporter, reason="灯又不亮了")
    clock.at(hours=30)
    breach(order, clock="accept")
    assert ladder(order) == [
        (Level.TEAM_LEAD, Reason.SLA_BREACH, True),
        (Level.TEAM_LEAD, Reason.SLA_BREACH, False),
    ]


def test_the_staff_timeline_reads_reminders_urges_and_escalations(client, world, clock):
    from repairhub.supervision.services import send_due_reminders

    order = world.order(Status.DISPATCHED)
    holder = order_for_token(order.tracking_token)[1]
    clock.at(minutes=30)
    perform(order, Action.URGE, by=holder, note="很急")
    clock.at(minutes=60)
    perform(order, Action.URGE, by=holder)
    send_due_reminders(now=clock.at(hours=12))
    client.force_login(world.dispatcher)
    html = client.get(f"/orders/{order.number}/").content.decode()
    compact = "".join(html.split())
    assert "<strong>催单</strong>" in compact
    assert "<dt>催单次数</dt><dd>2</dd>" in compact
    assert "<dt>说明</dt><dd>很急</dd>" in compact
    assert "<strong>督办</strong>" in compact
    assert "<dt>督办对象</dt><dd>班组长</dd>" in compact
    assert "<dt>督办原因</dt><dd>报修人多次催单</dd>" in compact
    assert "<dt>已通知</dt><dd>team_lead</dd>" in compact
    assert "<strong>提醒维修人员</strong>" in compact
    assert "<dt>提醒次数</dt><dd>第1次</dd>" in compact
